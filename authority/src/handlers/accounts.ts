/**
 * Register, log in, resume, log out, change password; and what happens when a session starts
 * (subscriptions, presence, the stored-DM backlog) or ends.
 */
import { randomBytes } from 'node:crypto';
import { CLOSE_CODES, fail, ok, type ErrorCode, type Failure, type Outcome, type SessionInfo } from '../../../shared/protocol/index.js';
import { hashToken, validUsername } from '../accounts-policy.js';
import type { Connection } from '../connection.js';
import type { Handler, Services } from '../context.js';
import { deliverStoredDms } from '../dm-delivery.js';
import { checkOwnPassword, hashNewPassword, poolBusy, refusedAnswer, userKey } from '../password-checks.js';
import { announcePresence } from '../presence.js';
import type { UserRow } from '../store/index.js';
import { DEFAULT_ROOM } from '../store/rooms.js';
import { isRefusal, reserveAll, type WindowCounter } from '../throttle.js';

const TOKEN_BYTES = 32;

/**
 * BANNED / KICKED for an account, or null when it may log in. `at`: the time the request came
 * (a login checks after its hash, and a kick in force when it asked still counts).
 */
function accountBlock(s: Services, user: UserRow, at = s.now()): Outcome<never, ErrorCode> | null {
  if (user.banned_at !== null) return fail('BANNED', { message: user.ban_reason ? `banned: ${user.ban_reason}` : undefined });
  if (user.kicked_until !== null && user.kicked_until > at) {
    return fail('KICKED', {
      until: user.kicked_until,
      message: `suspended until ${new Date(user.kicked_until).toISOString()}`,
    });
  }
  return null;
}

function ipBlock(s: Services, ip: string): Outcome<never, ErrorCode> | null {
  return s.store.users.isIpBanned(ip) ? fail('BANNED', { message: 'connections from this address are banned' }) : null;
}

/** Turns a connection into an authenticated session: subscriptions, presence, waiting DMs. */
function startSession(s: Services, c: Connection, user: UserRow, tokenHash: string): SessionInfo & { token: string } {
  const now = s.now();
  c.user = {
    id: user.id,
    username: user.username,
    admin: user.is_admin === 1,
    mustChangePassword: user.must_change_password === 1,
  };
  c.tokenHash = tokenHash;
  c.state = 'authenticated';
  s.store.users.recordIp(user.id, c.ip, now);
  const roomIds = c.user.admin ? s.store.rooms.all().map((r) => r.id) : s.store.rooms.roomIdsOf(user.id);
  for (const id of roomIds) s.hub.subscribe(c, id);
  const first = s.hub.attach(c, user.id);
  if (first) announcePresence(s, user.id, true);
  s.log.info('session_started', { conn: c.id, user: user.username, ip: c.ip });
  setImmediate(() => deliverStoredDms(s, c));
  return { token: '', user: { ...c.user }, iceServers: s.config.iceServers, serverVersion: s.serverVersion };
}

function newSession(s: Services, c: Connection, user: UserRow): SessionInfo {
  const token = randomBytes(TOKEN_BYTES).toString('base64url');
  const tokenHash = hashToken(token);
  s.store.users.createSession(tokenHash, user.id, s.now());
  const info = startSession(s, c, user, tokenHash);
  return { ...info, token };
}

/** Drops the session state of a connection (logout, account change), keeping the socket. */
export function endSession(s: Services, c: Connection): void {
  const user = c.user;
  const last = s.hub.remove(c);
  s.hub.add(c);
  c.user = null;
  c.tokenHash = null;
  if (c.state !== 'closed') c.state = 'anonymous';
  if (user && last) announcePresence(s, user.id, false);
}

function authGate(s: Services, c: Connection): Outcome<never, ErrorCode> | null {
  if (s.isShuttingDown()) return fail('SHUTTING_DOWN');
  if (c.state === 'authenticated') return fail('ALREADY_AUTHENTICATED');
  if (c.state === 'authenticating') return fail('BUSY', { message: 'one login at a time per connection' });
  return null;
}

/** USERNAME_TAKEN, or USERNAME_LOOKALIKE naming the account it looks like; null when free. */
export function nameTaken(
  s: Pick<Services, 'store'>,
  username: string,
): { ok: false; error: Failure<'USERNAME_TAKEN' | 'USERNAME_LOOKALIKE'> } | null {
  if (s.store.users.byName(username)) return fail('USERNAME_TAKEN');
  const like = s.store.users.lookalike(username);
  if (like) return fail('USERNAME_LOOKALIKE', { message: `${username} looks too much like ${like.username}` });
  return null;
}

export const register: Handler<'register'> = async (s, c, p) => {
  const gate = authGate(s, c) ?? ipBlock(s, c.ip);
  if (gate) return gate;
  // Every attempt counts, whatever its answer ("name taken" included): reserved before the
  // hash, so parallel registrations cannot all pass the check.
  const slot = s.throttles.registerPerIp.reserve(c.ip, s.now());
  if (isRefusal(slot)) return refusedAnswer(slot, 'too many accounts created from this address, try later');
  // A full hashing queue (BUSY) is the one answer that gives the slot back: nothing was tried.
  let spent = true;
  try {
    const username = p.username.normalize('NFC');
    if (!validUsername(username)) return fail('INVALID_USERNAME');
    const taken = nameTaken(s, username);
    if (taken) return taken;

    c.state = 'authenticating';
    let hashed;
    try {
      hashed = await hashNewPassword(s, p.password, username, `ip:${c.ip}`);
    } finally {
      if (c.state === 'authenticating') c.state = 'anonymous';
    }
    if (!hashed.ok) {
      spent = hashed.error.code !== 'BUSY';
      return hashed;
    }
    if (c.closed) return fail('INVALID_SESSION');
    const takenMeanwhile = nameTaken(s, username); // taken while we hashed
    if (takenMeanwhile) return takenMeanwhile;
    const now = s.now();
    const user = s.store.transaction(() => {
      const row = s.store.users.create(username, hashed.value, false, now);
      const general = s.store.rooms.byName(DEFAULT_ROOM);
      if (general) s.store.rooms.addMember(row.id, general.id, now);
      return row;
    });
    c.clientVersion = p.clientVersion ?? '';
    s.log.info('user_registered', { user: username, ip: c.ip });
    return ok(newSession(s, c, user));
  } finally {
    if (spent) slot.keep(s.now());
    else slot.release();
  }
};

/**
 * The throttles a login attempt reserves: per address, per (account, address), and per
 * account only from an address the account never logged in from, so that a stranger's
 * guesses slow the stranger and not the owner at their usual desk.
 */
function loginSlots(s: Services, key: string, user: UserRow | undefined, ip: string): [WindowCounter, string][] {
  const slots: [WindowCounter, string][] = [
    [s.throttles.loginPerIp, ip],
    [s.throttles.loginPerAccountIp, `${key}|${ip}`],
  ];
  if (!user || !s.store.users.ipsOf(user.id).includes(ip)) slots.push([s.throttles.loginPerAccount, key]);
  return slots;
}

export const login: Handler<'login'> = async (s, c, p) => {
  const gate = authGate(s, c) ?? ipBlock(s, c.ip);
  if (gate) return gate;
  const username = p.username.normalize('NFC');
  if (!validUsername(username)) return fail('INVALID_USERNAME'); // a name no account can have: says nothing
  const key = username.toLowerCase();
  const askedAt = s.now();
  const user = s.store.users.byName(username);
  const slot = reserveAll(loginSlots(s, key, user, c.ip), askedAt);
  if (isRefusal(slot)) return refusedAnswer(slot);

  // An unknown name is checked against a dummy hash: the same work and the same answer as a
  // wrong password. Ban and kick details only after the right password.
  c.state = 'authenticating';
  let checked;
  try {
    checked = await s.passwords.verify(p.password, user?.pass_hash ?? null, `ip:${c.ip}`);
  } catch (err) {
    slot.release(); // the pool failed (closing): the attempt never ran
    throw err;
  } finally {
    if (c.state === 'authenticating') c.state = 'anonymous';
  }
  if (!checked.ok) {
    slot.release();
    return poolBusy(checked);
  }
  if (!user || !checked.value) {
    slot.keep(s.now());
    s.log.warn('login_failed', { user: username, known: user !== undefined, ip: c.ip });
    return fail('WRONG_CREDENTIALS');
  }
  slot.release();
  s.throttles.loginPerAccountIp.reset(`${key}|${c.ip}`);
  if (c.closed) return fail('INVALID_SESSION');
  // Re-read: a ban or kick may have landed while the hash ran.
  const fresh = s.store.users.byId(user.id);
  if (!fresh) return fail('WRONG_CREDENTIALS');
  const blocked = accountBlock(s, fresh, askedAt);
  if (blocked) return blocked;
  c.clientVersion = p.clientVersion ?? '';
  return ok(newSession(s, c, fresh));
};

export const resume: Handler<'resume'> = (s, c, p) => {
  const gate = authGate(s, c) ?? ipBlock(s, c.ip);
  if (gate) return gate;
  const tokenHash = hashToken(p.token);
  const session = s.store.users.session(tokenHash);
  const now = s.now();
  if (!session || session.last_seen < now - s.config.limits.sessionIdleMs) return fail('INVALID_SESSION');
  const user = s.store.users.byId(session.user_id);
  if (!user) return fail('INVALID_SESSION');
  const blocked = accountBlock(s, user);
  if (blocked) return blocked;
  s.store.users.touchSession(tokenHash, now);
  c.clientVersion = p.clientVersion ?? '';
  const info = startSession(s, c, user, tokenHash);
  return ok({ ...info, token: p.token });
};

/**
 * Ends this session on every connection that uses it (the same token), or with `everywhere`
 * every session of the user; the other connections close SESSION_ENDED.
 */
export const logout: Handler<'logout'> = (s, c, p) => {
  const me = c.user;
  const tokenHash = c.tokenHash;
  if (me && p.everywhere) s.store.users.deleteSessionsOf(me.id);
  else if (tokenHash) s.store.users.deleteSession(tokenHash);
  s.log.info('logout', { conn: c.id, user: me?.username, everywhere: p.everywhere === true });
  endSession(s, c);
  if (me) {
    for (const other of [...s.hub.connectionsOf(me.id)]) {
      if (p.everywhere || other.tokenHash === tokenHash) {
        other.close(CLOSE_CODES.SESSION_ENDED, p.everywhere ? 'logged out everywhere' : 'logged out');
      }
    }
  }
  return ok({ ok: true as const });
};

export const changePassword: Handler<'changePassword'> = async (s, c, p) => {
  const me = c.user;
  if (!me) return fail('NOT_AUTHENTICATED');
  const row = s.store.users.byId(me.id);
  if (!row) return fail('UNKNOWN_USER');
  // The old password first: it is throttled, and the new one's estimate and hash (a password
  // worker's time) are then paid only by someone who knows the password, not by a flood of guesses.
  const checked = await checkOwnPassword(s, me.id, p.oldPassword, row.pass_hash);
  if (!checked.ok) return checked;
  const hashed = await hashNewPassword(s, p.newPassword, row.username, userKey(me.id));
  if (!hashed.ok) return hashed;
  // While the hashes ran, the connection or session may have ended, or the account been erased.
  if (c.closed || c.user !== me || !s.store.users.byId(me.id)) return fail('INVALID_SESSION');
  s.store.transaction(() => {
    s.store.users.setPassword(me.id, hashed.value, false);
    s.store.users.deleteSessionsOf(me.id);
    if (c.tokenHash) s.store.users.createSession(c.tokenHash, me.id, s.now());
  });
  me.mustChangePassword = false;
  for (const other of s.hub.connectionsOf(me.id)) {
    if (other !== c) other.close(CLOSE_CODES.SESSION_ENDED, 'password changed');
  }
  s.log.info('password_changed', { user: me.username });
  return ok({ ok: true as const });
};
