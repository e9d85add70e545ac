/**
 * Moderation of accounts: list, ban / unban (and address bans), kick, password reset, admin
 * rights. Each operation is shared by the console, the control socket and the admin requests
 * of clients (the handlers at the end), and each is audited.
 */
import { randomInt } from 'node:crypto';
import {
  CLOSE_CODES,
  CONTROL_CHARS,
  fail,
  LIMITS,
  ok,
  type AdminUserInfo,
  type ErrorCode,
  type Outcome,
} from '../../../shared/protocol/index.js';
import { rangeHolding } from '../addresses.js';
import type { Connection } from '../connection.js';
import { acknowledged, actorOf, isRow, type Actor, type Handler, type Services } from '../context.js';
import { findUser } from '../lookup.js';
import { hashNewPassword } from '../password-checks.js';

const ONE_TIME_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
const ONE_TIME_GROUPS = 4;
const ONE_TIME_GROUP_CHARS = 4;
/** Draws before giving up on a one-time password the policy accepts; nearly every draw passes. */
const ONE_TIME_DRAWS = 10;

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

/** Another account seen on an address within this long makes it a shared address. */
export const SHARED_ADDRESS_WINDOW_DAYS = 30;
const SHARED_ADDRESS_WINDOW_MS = SHARED_ADDRESS_WINDOW_DAYS * 24 * 3600_000;
/** Where the console, the control socket and the authority's own tools connect from. */
const CONSOLE_ADDRESSES = new Set(['127.0.0.1', '::1']);

/** An address the account used: who else used it lately, and why it may not be blocked. */
export interface BanAddress {
  ip: string;
  others: string[];
  exempt: string | null;
}

/** Which of the account's addresses a ban blocks: all (but exempt ones), unshared ones only, none. */
export type AddressChoice = 'all' | 'unshared' | 'none';

function exemptionOf(s: Services, ip: string): string | null {
  if (CONSOLE_ADDRESSES.has(ip)) return "exempt: the console's own address";
  const range = rangeHolding(ip, s.config.banExempt);
  if (range) return `exempt: in --ban-exempt ${range}`;
  return null;
}

/** The account's addresses and who else used each in the last SHARED_ADDRESS_WINDOW_MS. */
export function banPreview(s: Services, username: string): Outcome<{ user: string; addresses: BanAddress[] }, ErrorCode> {
  const user = findUser(s, username);
  if (!isRow(user)) return user;
  const since = s.now() - SHARED_ADDRESS_WINDOW_MS;
  const addresses = s.store.users.ipsOf(user.id).map((ip) => ({
    ip,
    others: s.store.users.othersOnIp(ip, user.id, since).map((o) => o.username),
    exempt: exemptionOf(s, ip),
  }));
  return ok({ user: user.username, addresses });
}

/**
 * Bans the account and the addresses chosen; its live connections close BANNED. An exempt
 * address (the console's own, a --ban-exempt range) is never blocked, and every address
 * left open is returned with the reason, for the admin to see and for the audit log.
 */
export function banUser(
  s: Services,
  actor: Actor,
  username: string,
  reason: string | null,
  choice: AddressChoice = 'unshared',
): Outcome<{ user: string; closed: number; addresses: string[]; spared: { ip: string; why: string }[] }, ErrorCode> {
  const preview = banPreview(s, username);
  if (!preview.ok) return preview;
  const user = findUser(s, username);
  if (!isRow(user)) return user;
  if (reason !== null && ([...reason].length > LIMITS.maxBanReasonChars || CONTROL_CHARS.test(reason))) {
    return fail('INVALID_TEXT', { message: `a ban reason is one line of at most ${LIMITS.maxBanReasonChars} characters` });
  }
  const block: string[] = [];
  const spared: { ip: string; why: string }[] = [];
  for (const a of preview.value.addresses) {
    if (a.exempt) spared.push({ ip: a.ip, why: a.exempt });
    else if (choice === 'none') spared.push({ ip: a.ip, why: 'account ban only (--no-ip)' });
    else if (choice === 'unshared' && a.others.length) spared.push({ ip: a.ip, why: `shared with ${a.others.join(', ')}` });
    else block.push(a.ip);
  }
  const addresses = s.store.users.ban(user.id, reason, s.now(), block);
  s.store.users.deleteSessionsOf(user.id);
  const closed = s.hub.closeUser(user.id, CLOSE_CODES.BANNED, reason ? `banned: ${reason}` : 'banned');
  const open = spared.length ? `; not blocked: ${spared.map((x) => `${x.ip} (${x.why})`).join(', ')}` : '';
  s.audit(actor, 'ban', user.username, `${reason ? `reason: ${reason}; ` : ''}addresses: ${addresses.join(', ') || 'none'}${open}`);
  return ok({ user: user.username, closed, addresses, spared });
}

/** Lifts a ban (and its address bans) and any kick still running. */
export function unbanUser(s: Services, actor: Actor, username: string): Outcome<{ user: string; changed: boolean }, ErrorCode> {
  const user = findUser(s, username);
  if (!isRow(user)) return user;
  const kicked = user.kicked_until !== null && user.kicked_until > s.now();
  if (user.banned_at === null && !kicked) return ok({ user: user.username, changed: false });
  s.store.users.unban(user.id);
  s.store.users.kick(user.id, null);
  s.audit(actor, 'unban', user.username, user.banned_at !== null ? 'ban lifted' : 'kick lifted');
  return ok({ user: user.username, changed: true });
}

/** Lifts the ban on one address (one left by an erased account, say). False when it was not banned. */
export function unbanAddress(s: Services, actor: Actor, address: string): boolean {
  if (!s.store.users.unbanIp(address)) return false;
  s.audit(actor, 'unban_ip', address);
  return true;
}

/** Disconnects now; login is refused (KICKED, with the end time) until `seconds` have passed. */
export function kickUser(
  s: Services,
  actor: Actor,
  username: string,
  seconds: number,
): Outcome<{ user: string; until: number; closed: number }, ErrorCode> {
  const user = findUser(s, username);
  if (!isRow(user)) return user;
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > LIMITS.maxKickSeconds) {
    return fail('BAD_REQUEST', { message: `a kick lasts 1 to ${LIMITS.maxKickSeconds} seconds` });
  }
  const until = s.now() + seconds * 1000;
  s.store.users.kick(user.id, until);
  s.store.users.deleteSessionsOf(user.id); // a kick ends the sessions: no resume, no export with the old token
  const closed = s.hub.closeUser(user.id, CLOSE_CODES.KICKED, `kicked until ${new Date(until).toISOString()}`);
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
 * A one-time password that this authority's policy accepts for `username`, hashed (random draws
 * rarely fail the policy), or BUSY from the password workers.
 */
async function acceptedOneTimePassword(s: Services, username: string, key: string): Promise<Outcome<{ password: string; hash: string }, ErrorCode>> {
  for (let i = 0; i < ONE_TIME_DRAWS; i++) {
    const drawn = oneTimePassword();
    const hashed = await hashNewPassword(s, drawn, username, key);
    if (hashed.ok) return ok({ password: drawn, hash: hashed.value });
    if (hashed.error.code !== 'WEAK_PASSWORD') return hashed;
  }
  throw new Error('no generated one-time password met the password policy'); // a bug: the generator or the policy changed
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
): Promise<Outcome<{ user: string; oneTime: string | null; closed: number }, ErrorCode>> {
  const user = findUser(s, username);
  if (!isRow(user)) return user;
  const key = `admin:${actor.name}`;
  const drawn = password === null ? await acceptedOneTimePassword(s, user.username, key) : null;
  if (drawn && !drawn.ok) return drawn;
  const oneTime = drawn?.value.password ?? null;
  const hashed = drawn ? ok(drawn.value.hash) : await hashNewPassword(s, password!, user.username, key);
  if (!hashed.ok) return hashed;
  s.store.transaction(() => {
    s.store.users.setPassword(user.id, hashed.value, oneTime !== null);
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
): Outcome<{ user: string; changed: boolean }, ErrorCode> {
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
  s.hub.sendToUser(user.id, 'adminChanged', { admin });
  s.audit(actor, admin ? 'make_admin' : 'revoke_admin', user.username);
  return ok({ user: user.username, changed: true });
}

// ---------- the admin requests of clients (an admin's desktop panel) ----------

function isSelf(c: Connection, username: string): boolean {
  return c.user!.username.toLowerCase() === username.normalize('NFC').toLowerCase();
}

export const adminListUsers: Handler<'adminListUsers'> = (s) => ok({ users: listUsers(s) });

export const adminBan: Handler<'adminBan'> = (s, c, p) => {
  if (isSelf(c, p.username)) return fail('CANNOT_TARGET_SELF');
  return acknowledged(banUser(s, actorOf(c), p.username, p.reason?.trim() || null));
};

export const adminUnban: Handler<'adminUnban'> = (s, c, p) => acknowledged(unbanUser(s, actorOf(c), p.username));

export const adminKick: Handler<'adminKick'> = (s, c, p) => {
  if (isSelf(c, p.username)) return fail('CANNOT_TARGET_SELF');
  return acknowledged(kickUser(s, actorOf(c), p.username, p.seconds));
};
