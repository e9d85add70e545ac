/**
 * Account commands: /users, /ban, /unban, /banned_ips, /unban_ip, /kick, /change_password,
 * /make_admin, /revoke_admin. The operations are handlers/moderation.ts; here, the words
 * typed and the text printed.
 */
import { findUser } from '../../lookup.js';
import { isRow } from '../../context.js';
import {
  banPreview,
  banUser,
  kickUser,
  listUsers,
  resetPassword,
  setAdmin,
  SHARED_ADDRESS_WINDOW_DAYS,
  unbanAddress,
  unbanUser,
  type AddressChoice,
} from '../../handlers/moderation.js';
import { duration, localTime, plural, table } from './format.js';
import { done, failed, refused, usage, type Command } from './types.js';

/** Kick durations may be written 90, 90s, 15m, 2h or 1d. */
const DURATION_UNITS: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 };

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
  run({ services: s }) {
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
  flags: ['--ip', '--no-ip'],
  summary: 'disconnect, block account (+ its addresses: asks when shared)',
  async run({ services: s, actor, io }, { args, flags }) {
    const [name, ...words] = args;
    if (!name || (flags.has('--ip') && flags.has('--no-ip'))) return usage(ban);
    const preview = banPreview(s, name);
    if (!preview.ok) return refused(preview.error);
    const shared = preview.value.addresses.filter((a) => a.others.length && !a.exempt);
    let choice: AddressChoice = flags.has('--ip') ? 'all' : flags.has('--no-ip') ? 'none' : 'unshared';
    if (shared.length && choice === 'unshared') {
      const who = shared.map((a) => `  ${a.ip} also used by ${a.others.join(', ')}`).join('\n');
      const list = shared.map((a) => a.ip).join(', ');
      if (!io.interactive) {
        return failed(
          `error: ${list} ${shared.length === 1 ? 'is' : 'are'} shared (used by other accounts in the last ` +
            `${SHARED_ADDRESS_WINDOW_DAYS} days):\n${who}\n` +
            `add --ip to block ${shared.length === 1 ? 'it' : 'them'} too, or --no-ip to ban the account only; nothing changed`,
        );
      }
      const sure = await io.confirm(
        `Addresses of ${preview.value.user} used by other accounts lately:\n${who}\nBlock ${list} too (they would be locked out)? [y/N] `,
      );
      if (sure) choice = 'all';
    }
    const r = banUser(s, actor, name, words.length ? words.join(' ') : null, choice);
    if (!r.ok) return refused(r.error);
    const { user, closed, addresses, spared } = r.value;
    const blocked = addresses.length ? `addresses blocked: ${addresses.join(', ')}` : preview.value.addresses.length ? 'no address blocked' : 'no address on record';
    const open = spared.map((x) => `\nnot blocked: ${x.ip} (${x.why})`).join('');
    return done(`banned ${user}: ${plural(closed, 'connection')} closed, ${blocked}${open}`);
  },
};

const unban: Command = {
  name: 'unban',
  args: [{ name: 'user', kind: 'user' }],
  summary: 'lift a ban (and its address bans) or kick',
  run({ services: s, actor }, { args }) {
    if (args.length !== 1) return usage(unban);
    const r = unbanUser(s, actor, args[0]!);
    if (!r.ok) return refused(r.error);
    return done(r.value.changed ? `unbanned ${r.value.user}` : `${r.value.user} is neither banned nor kicked`);
  },
};

const bannedAddresses: Command = {
  name: 'banned_ips',
  args: [],
  summary: 'addresses blocked by bans, and for which account',
  run({ services: s }, { args }) {
    if (args.length) return usage(bannedAddresses);
    const rows = s.store.users.ipBans();
    if (!rows.length) return done('no address is banned');
    return done(rows.map((r) => `${r.ip.padEnd(40)} ${r.username ?? '(account erased)'}`).join('\n'));
  },
};

const unbanAddressCmd: Command = {
  name: 'unban_ip',
  args: [{ name: 'address', kind: 'word' }],
  summary: 'lift the ban on one address (e.g. one left by an erased account)',
  run({ services: s, actor }, { args }) {
    if (args.length !== 1) return usage(unbanAddressCmd);
    if (!unbanAddress(s, actor, args[0]!)) return failed(`error NO_SUCH_BAN: ${args[0]} is not banned (see /banned_ips)`);
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
  run({ services: s, actor }, { args }) {
    if (args.length !== 2) return usage(kick);
    const seconds = parseSeconds(args[1]!);
    if (seconds === null || seconds < 1) return usage(kick);
    const r = kickUser(s, actor, args[0]!, seconds);
    if (!r.ok) return refused(r.error);
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
  summary: 'reset password: a one-time code for the user; ends their sessions',
  async run({ services: s, actor }, { args }) {
    // --generate is accepted as before: a code is always generated now (the authority never
    // learns a password, so it cannot set one).
    if (args.length !== 1) return usage(changePassword);
    const r = resetPassword(s, actor, args[0]!);
    if (!r.ok) return refused(r.error);
    return done(
      `reset code for ${r.value.user}: ${r.value.code}\n` +
        `(valid until ${localTime(r.value.expires)}: they choose a new password with it at the login screen, "I have a reset code"; ` +
        `their old password no longer works; ${plural(r.value.closed, 'connection')} closed, every session ended)`,
    );
  },
};

const makeAdmin: Command = {
  name: 'make_admin',
  args: [{ name: 'user', kind: 'user' }],
  flags: ['--yes'],
  summary: 'grant admin rights (asks to confirm)',
  async run({ services: s, actor, io }, { args, flags }) {
    if (args.length !== 1) return usage(makeAdmin);
    const user = findUser(s, args[0]!);
    if (!isRow(user)) return refused(user.error);
    if (user.is_admin === 1) return done(`${user.username} is already an admin`);
    if (!flags.has('--yes')) {
      if (!io.interactive) return failed(`error: confirm with --yes: /make_admin ${user.username} --yes`);
      const sure = await io.confirm(`Make ${user.username} an administrator (every room, bans, access decisions)? [y/N] `);
      if (!sure) return failed('cancelled: nothing changed');
    }
    const r = setAdmin(s, actor, user.username, true);
    if (!r.ok) return refused(r.error);
    return done(`${r.value.user} is now an admin`);
  },
};

const revokeAdmin: Command = {
  name: 'revoke_admin',
  args: [{ name: 'user', kind: 'user' }],
  summary: 'withdraw admin rights',
  run({ services: s, actor }, { args }) {
    if (args.length !== 1) return usage(revokeAdmin);
    const r = setAdmin(s, actor, args[0]!, false);
    if (!r.ok) return refused(r.error);
    return done(r.value.changed ? `${r.value.user} is no longer an admin` : `${r.value.user} was not an admin`);
  },
};

export const USER_COMMANDS: readonly Command[] = [users, ban, unban, bannedAddresses, unbanAddressCmd, kick, changePassword, makeAdmin, revokeAdmin];
