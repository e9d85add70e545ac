/**
 * Accounts: list, ban / unban, kick, password reset, admin rights. Each operation is shared
 * by the console, the control socket and the admin requests of clients, and is audited.
 */
import { randomInt } from 'node:crypto';
import {
  CLOSE_CODES,
  CONTROL_CHARS,
  LIMITS,
  type AdminUserInfo,
} from '../../../../shared/protocol/index.js';
import { isRow, fail, ok, type Actor, type Outcome, type Services } from '../../context.js';
import { passwordPolicyError } from '../../handlers/accounts.js';
import type { UserRow } from '../../store/index.js';
import { duration, localTime, plural, table } from './format.js';
import { done, failed, failure, usage, type Command } from './types.js';

/** WebSocket close reasons are at most 123 bytes of UTF-8. */
const CLOSE_REASON_BYTES = 120;
/** Kick durations may be written 90, 90s, 15m, 2h or 1d. */
const DURATION_UNITS: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 };
const ONE_TIME_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
const ONE_TIME_GROUPS = 4;
const ONE_TIME_GROUP_CHARS = 4;

export function closeReason(text: string): string {
  let out = '';
  for (const ch of text) {
    if (Buffer.byteLength(out + ch) > CLOSE_REASON_BYTES) break;
    out += ch;
  }
  return out;
}

/** An operation's typed failure. */
export type Failure = ReturnType<typeof fail>;

export function findUser(s: Services, name: string): UserRow | Failure {
  return s.store.users.byName(name.normalize('NFC')) ?? fail('UNKNOWN_USER', { message: `no user is named ${name}` });
}

export { isRow };

export function listUsers(s: Services): AdminUserInfo[] {
  const now = s.now();
  return s.store.users.all().map((u) => ({
    username: u.username,
    admin: u.is_admin === 1,
    banned: u.banned_at !== null,
    kickedUntil: u.kicked_until !== null && u.kicked_until > now ? u.kicked_until : null,
    online: s.hub.isOnline(u.id),
  }));
}

/** Bans the account and every address it used; its live connections close BANNED. */
export function banUser(
  s: Services,
  actor: Actor,
  username: string,
  reason: string | null,
): Outcome<{ user: string; closed: number; addresses: string[] }> {
  const user = findUser(s, username);
  if (!isRow(user)) return user;
  if (reason !== null && ([...reason].length > LIMITS.maxBanReasonChars || CONTROL_CHARS.test(reason))) {
    return fail('INVALID_TEXT', { message: `a ban reason is one line of at most ${LIMITS.maxBanReasonChars} characters` });
  }
  const addresses = s.store.users.ban(user.id, reason, s.now());
  s.store.users.deleteSessionsOf(user.id);
  const closed = s.hub.closeUser(user.id, CLOSE_CODES.BANNED, closeReason(reason ? `banned: ${reason}` : 'banned'));
  s.audit(actor, 'ban', user.username, `${reason ? `reason: ${reason}; ` : ''}addresses: ${addresses.join(', ') || 'none'}`);
  return ok({ user: user.username, closed, addresses });
}

/** Lifts a ban (and its address bans) and any kick still running. */
export function unbanUser(s: Services, actor: Actor, username: string): Outcome<{ user: string; changed: boolean }> {
  const user = findUser(s, username);
  if (!isRow(user)) return user;
  const kicked = user.kicked_until !== null && user.kicked_until > s.now();
  if (user.banned_at === null && !kicked) return ok({ user: user.username, changed: false });
  s.store.users.unban(user.id);
  s.store.users.kick(user.id, null);
  s.audit(actor, 'unban', user.username, user.banned_at !== null ? 'ban lifted' : 'kick lifted');
  return ok({ user: user.username, changed: true });
}

/** Disconnects now; login is refused (KICKED, with the end time) until `seconds` have passed. */
export function kickUser(
  s: Services,
  actor: Actor,
  username: string,
  seconds: number,
): Outcome<{ user: string; until: number; closed: number }> {
  const user = findUser(s, username);
  if (!isRow(user)) return user;
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > LIMITS.maxKickSeconds) {
    return fail('BAD_REQUEST', { message: `a kick lasts 1 to ${LIMITS.maxKickSeconds} seconds` });
  }
  const until = s.now() + seconds * 1000;
  s.store.users.kick(user.id, until);
  const closed = s.hub.closeUser(user.id, CLOSE_CODES.KICKED, closeReason(`kicked until ${new Date(until).toISOString()}`));
  s.audit(actor, 'kick', user.username, `${seconds} s, until ${new Date(until).toISOString()}`);
  return ok({ user: user.username, until, closed });
}

/** A one-time password that meets the policy: four groups of four, joined by hyphens. */
export function oneTimePassword(): string {
  const groups: string[] = [];
  for (let g = 0; g < ONE_TIME_GROUPS; g++) {
    let group = '';
    for (let i = 0; i < ONE_TIME_GROUP_CHARS; i++) group += ONE_TIME_ALPHABET[randomInt(ONE_TIME_ALPHABET.length)];
    groups.push(group);
  }
  return groups.join('-');
}

/**
 * Sets a new password (or a generated one-time password that must be changed at next login)
 * and ends every session of the account.
 */
export async function resetPassword(
  s: Services,
  actor: Actor,
  username: string,
  password: string | null,
): Promise<Outcome<{ user: string; oneTime: string | null; closed: number }>> {
  const user = findUser(s, username);
  if (!isRow(user)) return user;
  const oneTime = password === null ? oneTimePassword() : null;
  const chosen = password ?? oneTime!;
  const weak = passwordPolicyError(chosen, s.config.passwordMinLength);
  if (weak) return fail('WEAK_PASSWORD', { message: `weak password: ${weak}` });
  const hash = await s.passwords.hash(chosen);
  s.store.transaction(() => {
    s.store.users.setPassword(user.id, hash, oneTime !== null);
    s.store.users.deleteSessionsOf(user.id);
  });
  const closed = s.hub.closeUser(user.id, CLOSE_CODES.SESSION_ENDED, 'password reset by an administrator');
  s.audit(actor, 'change_password', user.username, oneTime ? 'one-time password, to change at next login' : 'new password set');
  return ok({ user: user.username, oneTime, closed });
}

/** Grants or withdraws admin rights; live connections follow at once (every room, or only theirs). */
export function setAdmin(
  s: Services,
  actor: Actor,
  username: string,
  admin: boolean,
): Outcome<{ user: string; changed: boolean }> {
  const user = findUser(s, username);
  if (!isRow(user)) return user;
  if ((user.is_admin === 1) === admin) return ok({ user: user.username, changed: false });
  s.store.users.setAdmin(user.id, admin);
  const rooms = s.store.rooms.all();
  const memberOf = s.store.rooms.roomIdsOf(user.id);
  for (const c of s.hub.connectionsOf(user.id)) {
    if (c.user) c.user.admin = admin;
    for (const r of rooms) {
      if (admin) s.hub.subscribe(c, r.id);
      else if (!memberOf.has(r.id)) s.hub.unsubscribe(c, r.id);
    }
  }
  s.hub.sendToUser(user.id, { ev: 'adminChanged', admin });
  s.audit(actor, admin ? 'make_admin' : 'revoke_admin', user.username);
  return ok({ user: user.username, changed: true });
}

/** "90", "90s", "15m", "2h", "1d" → seconds; null when it is none of those. */
export function parseSeconds(text: string): number | null {
  const m = /^(\d{1,9})([smhd]?)$/i.exec(text.trim());
  if (!m) return null;
  return Number(m[1]) * DURATION_UNITS[m[2]!.toLowerCase()]!;
}

// ---------- commands ----------

const users: Command = {
  name: 'users',
  args: [],
  summary: 'accounts: role, ban or kick, online',
  run({ authority: s }) {
    const list = listUsers(s);
    const rows = list.map((u) => [
      u.username,
      u.admin ? 'admin' : 'user',
      u.banned ? 'banned' : u.kickedUntil ? `kicked until ${localTime(u.kickedUntil)}` : '-',
      u.online ? 'yes' : '-',
    ]);
    const online = list.filter((u) => u.online).length;
    return done(`${table(['USER', 'ROLE', 'BLOCKED', 'ONLINE'], rows)}\n${plural(list.length, 'account')}, ${online} online`);
  },
};

const ban: Command = {
  name: 'ban',
  args: [
    { name: 'user', kind: 'user' },
    { name: 'reason', kind: 'text', optional: true, rest: true },
  ],
  summary: 'disconnect, block account + its addresses',
  run({ authority: s, actor }, { args }) {
    const [name, ...words] = args;
    if (!name) return usage(ban);
    const r = banUser(s, actor, name, words.length ? words.join(' ') : null);
    if (!r.ok) return failure(r.error);
    const { user, closed, addresses } = r.value;
    const blocked = addresses.length ? `addresses blocked: ${addresses.join(', ')}` : 'no address on record';
    return done(`banned ${user}: ${plural(closed, 'connection')} closed, ${blocked}`);
  },
};

const unban: Command = {
  name: 'unban',
  args: [{ name: 'user', kind: 'user' }],
  summary: 'lift a ban (and its address bans) or kick',
  run({ authority: s, actor }, { args }) {
    if (args.length !== 1) return usage(unban);
    const r = unbanUser(s, actor, args[0]!);
    if (!r.ok) return failure(r.error);
    return done(r.value.changed ? `unbanned ${r.value.user}` : `${r.value.user} is neither banned nor kicked`);
  },
};

const bannedAddresses: Command = {
  name: 'banned_ips',
  args: [],
  summary: 'addresses blocked by bans, and for which account',
  run({ authority: s }, { args }) {
    if (args.length) return usage(bannedAddresses);
    const rows = s.store.users.ipBans();
    if (!rows.length) return done('no address is banned');
    return done(rows.map((r) => `${r.ip.padEnd(40)} ${r.username ?? '(account erased)'}`).join('\n'));
  },
};

const unbanAddress: Command = {
  name: 'unban_ip',
  args: [{ name: 'address', kind: 'word' }],
  summary: 'lift the ban on one address (e.g. one left by an erased account)',
  run({ authority: s, actor }, { args }) {
    if (args.length !== 1) return usage(unbanAddress);
    if (!s.store.users.unbanIp(args[0]!)) return failed(`error NO_SUCH_BAN: ${args[0]} is not banned (see /banned_ips)`);
    s.audit(actor, 'unban_ip', args[0]!);
    return done(`address ${args[0]} may connect again`);
  },
};

const kick: Command = {
  name: 'kick',
  args: [
    { name: 'user', kind: 'user' },
    { name: 'seconds', kind: 'seconds' },
  ],
  summary: 'disconnect; no login for a while (15m, 2h)',
  run({ authority: s, actor }, { args }) {
    if (args.length !== 2) return usage(kick);
    const seconds = parseSeconds(args[1]!);
    if (seconds === null || seconds < 1) return usage(kick);
    const r = kickUser(s, actor, args[0]!, seconds);
    if (!r.ok) return failure(r.error);
    const { user, until, closed } = r.value;
    return done(
      `kicked ${user} until ${localTime(until)} (${duration(until - s.now())}): ${plural(closed, 'connection')} closed`,
    );
  },
};

const changePassword: Command = {
  name: 'change_password',
  args: [{ name: 'user', kind: 'user' }],
  flags: ['--generate'],
  summary: 'reset password; ends their sessions',
  async run({ authority: s, actor, io }, { args, flags }) {
    if (args.length !== 1) return usage(changePassword);
    const user = findUser(s, args[0]!);
    if (!isRow(user)) return failure(user.error);
    let password: string | null = null;
    if (!flags.has('--generate')) {
      password = await io.secret(`New password for ${user.username}: `);
      if (password === null) {
        return failed('error: no password given (type it at the prompt, or use --generate for a one-time password)');
      }
    }
    const r = await resetPassword(s, actor, user.username, password);
    if (!r.ok) return failure(r.error);
    const ended = `${plural(r.value.closed, 'connection')} closed, every session ended`;
    if (r.value.oneTime) {
      return done(
        `one-time password for ${r.value.user}: ${r.value.oneTime}\n` +
          `(they must choose a new one at next login; ${ended})`,
      );
    }
    return done(`password of ${r.value.user} changed: ${ended}`);
  },
};

const makeAdmin: Command = {
  name: 'make_admin',
  args: [{ name: 'user', kind: 'user' }],
  flags: ['--yes'],
  summary: 'grant admin rights (asks to confirm)',
  async run({ authority: s, actor, io }, { args, flags }) {
    if (args.length !== 1) return usage(makeAdmin);
    const user = findUser(s, args[0]!);
    if (!isRow(user)) return failure(user.error);
    if (user.is_admin === 1) return done(`${user.username} is already an admin`);
    if (!flags.has('--yes')) {
      if (!io.interactive) return failed(`error: confirm with --yes: /make_admin ${user.username} --yes`);
      const sure = await io.confirm(`Make ${user.username} an administrator (every room, bans, access decisions)? [y/N] `);
      if (!sure) return failed('cancelled: nothing changed');
    }
    const r = setAdmin(s, actor, user.username, true);
    if (!r.ok) return failure(r.error);
    return done(`${r.value.user} is now an admin`);
  },
};

const revokeAdmin: Command = {
  name: 'revoke_admin',
  args: [{ name: 'user', kind: 'user' }],
  summary: 'withdraw admin rights',
  run({ authority: s, actor }, { args }) {
    if (args.length !== 1) return usage(revokeAdmin);
    const r = setAdmin(s, actor, args[0]!, false);
    if (!r.ok) return failure(r.error);
    return done(r.value.changed ? `${r.value.user} is no longer an admin` : `${r.value.user} was not an admin`);
  },
};

export const USER_COMMANDS: readonly Command[] = [users, ban, unban, bannedAddresses, unbanAddress, kick, changePassword, makeAdmin, revokeAdmin];
