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
import { resetCodeHash } from '../accounts-policy.js';

/** Reset codes: 16 characters of 31 (no 0/o, 1/l/i), about 79 bits, read aloud or copied by hand. */
const ONE_TIME_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
const ONE_TIME_GROUPS = 4;
const ONE_TIME_GROUP_CHARS = 4;
/** How long a reset code holds: two days to reach the user; a new reset replaces it. */
export const RESET_CODE_TTL_MS = 48 * 3600_000;

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

/** A one-time reset code: four groups of four, joined by hyphens. */
export function oneTimeCode(): string {
  const groups: string[] = [];
  for (let g = 0; g < ONE_TIME_GROUPS; g++) {
    let group = '';
    for (let i = 0; i < ONE_TIME_GROUP_CHARS; i++) group += ONE_TIME_ALPHABET[randomInt(ONE_TIME_ALPHABET.length)];
    groups.push(group);
  }
  return groups.join('-');
}

/**
 * Resets an account's password: its record (and any scrypt hash) is deleted, every session
 * ended, and the result is a one-time code the admin hands to the user, who registers a new
 * password with it before it expires (resetStart). The authority never sees the new password;
 * it keeps only the code's SHA-256.
 */
export function resetPassword(
  s: Services,
  actor: Actor,
  username: string,
): Outcome<{ user: string; code: string; expires: number; closed: number }, ErrorCode> {
  const user = findUser(s, username);
  if (!isRow(user)) return user;
  const code = oneTimeCode();
  const expires = s.now() + RESET_CODE_TTL_MS;
  s.store.transaction(() => {
    s.store.users.setResetCode(user.id, resetCodeHash(code), expires);
    s.store.users.deleteSessionsOf(user.id);
  });
  const closed = s.hub.closeUser(user.id, CLOSE_CODES.SESSION_ENDED, 'password reset by an administrator');
  s.audit(actor, 'change_password', user.username, `reset code, valid until ${new Date(expires).toISOString()}`);
  return ok({ user: user.username, code, expires, closed });
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
