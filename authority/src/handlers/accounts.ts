/**
 * Register, log in, resume, log out, change password; and what happens when a session starts
 * (subscriptions, presence, the stored-DM backlog) or ends.
 */
import { randomBytes } from 'node:crypto';
import { CLOSE_CODES, fail, ok, type ErrorCode, type Outcome, type SessionInfo } from '../../../shared/protocol/index.js';
import { hashToken, passwordPolicyError, validUsername } from '../accounts-policy.js';
import type { Connection } from '../connection.js';
import type { Handler, Services } from '../context.js';
import { deliverStoredDms } from '../dm-delivery.js';
import { announcePresence } from '../presence.js';
import type { UserRow } from '../store/index.js';
import { DEFAULT_ROOM } from '../store/rooms.js';

const TOKEN_BYTES = 32;

/** BANNED / KICKED for an account, or null when it may log in. */
function accountBlock(s: Services, user: UserRow): Outcome<never, ErrorCode> | null {
  if (user.banned_at !== null) return fail('BANNED', { message: user.ban_reason ? `banned: ${user.ban_reason}` : undefined });
  if (user.kicked_until !== null && user.kicked_until > s.now()) {
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

export const register: Handler<'register'> = async (s, c, p) => {
  const gate = authGate(s, c) ?? ipBlock(s, c.ip);
  if (gate) return gate;
  const until = s.throttles.registerPerIp.blockedUntil(c.ip);
  if (until) return fail('TOO_MANY_ATTEMPTS', { until, message: 'too many accounts created from this address, try later' });
  const username = p.username.normalize('NFC');
  if (!validUsername(username)) return fail('INVALID_USERNAME');
  const weak = passwordPolicyError(p.password, s.config.passwordMinLength);
  if (weak) return fail('WEAK_PASSWORD', { message: `weak password: ${weak}` });
  if (s.store.users.byName(username)) return fail('USERNAME_TAKEN');

  c.state = 'authenticating';
  let hash: string;
  try {
    hash = await s.passwords.hash(p.password);
  } finally {
    if (c.state === 'authenticating') c.state = 'anonymous';
  }
  if (c.closed) return fail('INVALID_SESSION');
  if (s.store.users.byName(username)) return fail('USERNAME_TAKEN'); // taken while we hashed
  s.throttles.registerPerIp.hit(c.ip);
  const now = s.now();
  const user = s.store.transaction(() => {
    const row = s.store.users.create(username, hash, false, now);
    const general = s.store.rooms.byName(DEFAULT_ROOM);
    if (general) s.store.rooms.addMember(row.id, general.id, now);
    return row;
  });
  c.clientVersion = p.clientVersion ?? '';
  s.log.info('user_registered', { user: username, ip: c.ip });
  return ok(newSession(s, c, user));
};

export const login: Handler<'login'> = async (s, c, p) => {
  const gate = authGate(s, c) ?? ipBlock(s, c.ip);
  if (gate) return gate;
  const username = p.username.normalize('NFC');
  const key = username.toLowerCase();
  const until =
    s.throttles.loginPerIp.blockedUntil(c.ip) ?? s.throttles.loginPerAccount.blockedUntil(key);
  if (until) return fail('TOO_MANY_ATTEMPTS', { until });
  if (!validUsername(username)) return fail('INVALID_USERNAME');
  const user = s.store.users.byName(username);
  if (!user) {
    s.throttles.loginPerIp.hit(c.ip);
    return fail('UNKNOWN_USER');
  }
  const blocked = accountBlock(s, user);
  if (blocked) return blocked;

  c.state = 'authenticating';
  let good: boolean;
  try {
    good = await s.passwords.verify(p.password, user.pass_hash);
  } finally {
    if (c.state === 'authenticating') c.state = 'anonymous';
  }
  if (c.closed) return fail('INVALID_SESSION');
  if (!good) {
    s.throttles.loginPerIp.hit(c.ip);
    s.throttles.loginPerAccount.hit(key);
    s.log.warn('login_failed', { user: user.username, ip: c.ip });
    return fail('WRONG_PASSWORD');
  }
  s.throttles.loginPerAccount.reset(key);
  // Re-read: a ban or kick may have landed while the hash ran.
  const fresh = s.store.users.byId(user.id);
  if (!fresh) return fail('UNKNOWN_USER');
  const late = accountBlock(s, fresh);
  if (late) return late;
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

export const logout: Handler<'logout'> = (s, c) => {
  if (c.tokenHash) s.store.users.deleteSession(c.tokenHash);
  s.log.info('logout', { conn: c.id, user: c.user?.username });
  endSession(s, c);
  return ok({ ok: true as const });
};

export const changePassword: Handler<'changePassword'> = async (s, c, p) => {
  const me = c.user;
  if (!me) return fail('NOT_AUTHENTICATED');
  const row = s.store.users.byId(me.id);
  if (!row) return fail('UNKNOWN_USER');
  const weak = passwordPolicyError(p.newPassword, s.config.passwordMinLength);
  if (weak) return fail('WEAK_PASSWORD', { message: `weak password: ${weak}` });
  if (!(await s.passwords.verify(p.oldPassword, row.pass_hash))) return fail('WRONG_PASSWORD');
  const hash = await s.passwords.hash(p.newPassword);
  // While the hashes ran, the connection or session may have ended, or the account been erased.
  if (c.closed || c.user !== me || !s.store.users.byId(me.id)) return fail('INVALID_SESSION');
  s.store.transaction(() => {
    s.store.users.setPassword(me.id, hash, false);
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
