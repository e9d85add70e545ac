/**
 * Register, log in, resume, log out, change password; and what happens when a session starts
 * (subscriptions, presence, the stored-DM backlog) or ends.
 *
 * Passwords never reach the authority: each login and registration is an OPAQUE exchange
 * (RFC 9807) of two requests, its state between them held on the connection (auth-exchange.ts),
 * its server steps run in the password workers. An account made before OPAQUE moves to it at
 * its next login (legacyLogin: its password crosses once, over TLS, and its scrypt hash is
 * deleted). An admin's reset leaves a one-time code with which the user registers anew.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import {
  CLOSE_CODES,
  fail,
  OpaqueKsf,
  ok,
  type ErrorCode,
  type Failure,
  type Outcome,
  type SessionInfo,
} from '../../../shared/protocol/index.js';
import { hashToken, opaqueIdentifier, resetCodeHash, validUsername } from '../accounts-policy.js';
import type { AuthExchange } from '../auth-exchange.js';
import type { Connection } from '../connection.js';
import type { Handler, Services } from '../context.js';
import { deliverStoredDms } from '../dm-delivery.js';
import { busyAgain, poolBusy, provePassword, refusedAnswer, userKey } from '../password-checks.js';
import type { PoolAnswer } from '../passwords.js';
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

/** The key stretching an account's record was made with (the current default for none). */
function recordKsf(s: Services, user: UserRow | undefined): OpaqueKsf {
  if (!user?.opaque_ksf) return s.config.opaqueKsf;
  const parsed = OpaqueKsf.safeParse(JSON.parse(user.opaque_ksf));
  return parsed.success ? parsed.data : s.config.opaqueKsf;
}

/** A registration record is 192 bytes with this suite (ristretto255, SHA-512): anything else cannot log in. */
const RECORD_BYTES = 192;

function validRecord(record: string): boolean {
  return Buffer.from(record, 'base64url').length === RECORD_BYTES;
}

/**
 * Runs one pool step of an anonymous connection's exchange, marked authenticating meanwhile: a
 * second request in that time is answered BUSY (one step at a time per connection).
 */
async function step<T>(c: Connection, work: () => Promise<PoolAnswer<T>>): Promise<PoolAnswer<T>> {
  c.state = 'authenticating';
  try {
    return await work();
  } finally {
    if (c.state === 'authenticating') c.state = 'anonymous';
  }
}

/** The password policy clients apply to a new password (the authority never sees it), and the key stretching of new records. */
export const authPolicy: Handler<'authPolicy'> = (s) =>
  ok({ minLength: s.config.passwordMinLength, minScore: s.config.passwordMinScore, ksf: s.config.opaqueKsf });

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

export const registerStart: Handler<'registerStart'> = async (s, c, p) => {
  const gate = authGate(s, c) ?? ipBlock(s, c.ip);
  if (gate) return gate;
  c.exchange.drop(); // one at a time: the one before counts as given up, before this one's slots are taken
  // Every attempt counts, whatever its answer ("name taken" included): reserved first, so
  // parallel registrations cannot all pass the check. The exchange holds it until its end.
  const slot = s.throttles.registerPerIp.reserve(c.ip, s.now());
  if (isRefusal(slot)) return refusedAnswer(slot, 'too many accounts created from this address, try later');
  const username = p.username.normalize('NFC');
  const refused = !validUsername(username) ? fail('INVALID_USERNAME') : nameTaken(s, username);
  if (refused) {
    slot.keep(s.now());
    return refused;
  }
  const setup = await s.opaqueSetup;
  const r = await step(c, () => s.passwords.opaqueRegistration(setup, opaqueIdentifier(username), p.registrationRequest, `ip:${c.ip}`));
  if (!r.ok) {
    slot.release(); // BUSY: nothing was tried
    return poolBusy(r);
  }
  if (r.value === null || c.closed) {
    slot.keep(s.now());
    return fail(c.closed ? 'INVALID_SESSION' : 'INVALID_AUTH_MESSAGE');
  }
  const ksf = s.config.opaqueKsf;
  c.exchange.begin({ kind: 'register', username, ksf, slot, askedAt: s.now(), clientVersion: p.clientVersion ?? '' });
  return ok({ registrationResponse: r.value, ksf });
};

/** The record's login settings as stored. */
function recordOf(record: string, ksf: OpaqueKsf): { record: string; ksf: string } {
  return { record, ksf: JSON.stringify(ksf) };
}

/**
 * The second half of registerStart (a new account), legacyLogin (an account moving to OPAQUE)
 * or resetStart (an admin's reset): the record is stored and the session starts.
 */
export const registerFinish: Handler<'registerFinish'> = (s, c, p) => {
  const gate = authGate(s, c);
  if (gate) return gate;
  const ex = c.exchange.take('register', 'migrate', 'reset');
  if (!ex) return fail('NO_AUTH_EXCHANGE');
  c.clientVersion = ex.clientVersion;
  if (!validRecord(p.registrationRecord)) {
    if (ex.kind === 'register') ex.slot.keep(s.now());
    return fail('INVALID_AUTH_MESSAGE');
  }
  const login = recordOf(p.registrationRecord, ex.ksf);
  if (ex.kind === 'register') {
    ex.slot.keep(s.now());
    const taken = nameTaken(s, ex.username); // taken between the two halves
    if (taken) return taken;
    const now = s.now();
    const user = s.store.transaction(() => {
      const row = s.store.users.create(ex.username, login, false, now);
      const general = s.store.rooms.byName(DEFAULT_ROOM);
      if (general) s.store.rooms.addMember(row.id, general.id, now);
      return row;
    });
    s.log.info('user_registered', { user: ex.username, ip: c.ip });
    return ok(newSession(s, c, user));
  }
  const user = s.store.users.byId(ex.userId);
  if (!user) return fail('WRONG_CREDENTIALS'); // erased meanwhile
  // A reset code used up meanwhile (another device), or replaced by a newer reset: this one is void.
  if (ex.kind === 'reset' && user.reset_code_hash !== ex.resetCodeHash) return fail('NO_AUTH_EXCHANGE');
  s.store.transaction(() => {
    s.store.users.setRecord(user.id, login, ex.kind === 'migrate' && user.must_change_password === 1);
    if (ex.kind === 'reset') {
      s.store.users.deleteSessionsOf(user.id);
      // Sealed under the forgotten password's export key: nobody can open it any more.
      s.store.dms.deleteBackup(user.id);
    }
  });
  s.log.info(ex.kind === 'migrate' ? 'account_migrated' : 'password_reset_used', { user: user.username, ip: c.ip });
  const fresh = s.store.users.byId(user.id)!;
  const blocked = accountBlock(s, fresh, ex.askedAt);
  if (blocked) return blocked;
  return ok(newSession(s, c, fresh));
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

/**
 * A login's first half. The attempt is counted here: the client learns from this reply alone
 * whether its password is right, so a guess costs a slot whether or not it is finished. An
 * unknown name gets a fake response of the same size and work, so the reply says nothing; an
 * account made before OPAQUE answers `legacy` (see docs/SECURITY.md: that much is told).
 */
export const loginStart: Handler<'loginStart'> = async (s, c, p) => {
  const gate = authGate(s, c) ?? ipBlock(s, c.ip);
  if (gate) return gate;
  c.exchange.drop(); // one at a time: the one before counts as given up, before this one's slots are taken
  const username = p.username.normalize('NFC');
  if (!validUsername(username)) return fail('INVALID_USERNAME'); // a name no account can have: says nothing
  const key = username.toLowerCase();
  const askedAt = s.now();
  const user = s.store.users.byName(username);
  const slot = reserveAll(loginSlots(s, key, user, c.ip), askedAt);
  if (isRefusal(slot)) return refusedAnswer(slot);
  const clientVersion = p.clientVersion ?? '';
  if (user && user.opaque_record === null && user.pass_hash !== '') {
    c.exchange.begin({ kind: 'legacy', key, userId: user.id, slot, askedAt, clientVersion });
    return ok({ legacy: true as const });
  }
  const setup = await s.opaqueSetup;
  const record = user?.opaque_record ?? null; // none: unknown, or reset by an admin (only the code opens it)
  const r = await step(c, () => s.passwords.opaqueLoginStart(setup, opaqueIdentifier(username), record, p.startLoginRequest, `ip:${c.ip}`));
  if (!r.ok || r.value === null || c.closed) {
    slot.release(); // nothing was tried
    return !r.ok ? poolBusy(r) : fail(c.closed ? 'INVALID_SESSION' : 'INVALID_AUTH_MESSAGE');
  }
  const userId = record === null ? null : user!.id;
  const ip = c.ip;
  // Logged alike for a known and an unknown name, as a failed login is (known= is for the admin).
  const onAbandoned = () => s.log.warn('login_failed', { user: username, known: userId !== null, ip, finished: false });
  c.exchange.begin({ kind: 'login', key, username, userId, serverLoginState: r.value.serverLoginState, slot, askedAt, clientVersion, onAbandoned });
  return ok({ loginResponse: r.value.loginResponse, ksf: recordKsf(s, record === null ? undefined : user) });
};

/** A login's second half: the client's proof that it knew the password. */
export const loginFinish: Handler<'loginFinish'> = async (s, c, p) => {
  const gate = authGate(s, c);
  if (gate) return gate;
  const ex = c.exchange.take('login');
  if (!ex) return fail('NO_AUTH_EXCHANGE');
  const r = await step(c, () => s.passwords.opaqueLoginFinish(ex.serverLoginState, p.finishLoginRequest, `ip:${c.ip}`));
  if (!r.ok) return busyAgain(c, ex, r);
  if (!r.value || ex.userId === null) {
    ex.slot.keep(s.now());
    s.log.warn('login_failed', { user: ex.username, known: ex.userId !== null, ip: c.ip });
    return fail('WRONG_CREDENTIALS');
  }
  return loggedIn(s, c, ex);
};

/** A login proven (OPAQUE, or a legacy password): the attempt's slot is given back and the session starts. */
function loggedIn(s: Services, c: Connection, ex: Extract<AuthExchange, { kind: 'login' | 'legacy' }>) {
  ex.slot.release();
  s.throttles.loginPerAccountIp.reset(`${ex.key}|${c.ip}`);
  if (c.closed) return fail('INVALID_SESSION');
  // Re-read: a ban or kick may have landed meanwhile.
  const fresh = ex.userId === null ? undefined : s.store.users.byId(ex.userId);
  if (!fresh) return fail('WRONG_CREDENTIALS');
  const blocked = accountBlock(s, fresh, ex.askedAt);
  if (blocked) return blocked;
  c.clientVersion = ex.clientVersion;
  return ok(newSession(s, c, fresh));
}

/**
 * An account made before OPAQUE (loginStart answered legacy): its password is checked against
 * the scrypt hash, once, and the reply is the first half of its record's registration; the
 * registerFinish that follows stores the record and deletes the hash.
 */
export const legacyLogin: Handler<'legacyLogin'> = async (s, c, p) => {
  const gate = authGate(s, c);
  if (gate) return gate;
  const ex = c.exchange.take('legacy');
  if (!ex) return fail('NO_AUTH_EXCHANGE');
  const user = s.store.users.byId(ex.userId);
  if (!user || user.pass_hash === '') {
    ex.slot.keep(s.now());
    return fail('WRONG_CREDENTIALS'); // erased, or moved to OPAQUE from another connection meanwhile
  }
  const checked = await step(c, () => s.passwords.verify(p.password, user.pass_hash, `ip:${c.ip}`));
  if (!checked.ok) return busyAgain(c, ex, checked);
  if (!checked.value) {
    ex.slot.keep(s.now());
    s.log.warn('login_failed', { user: user.username, known: true, ip: c.ip });
    return fail('WRONG_CREDENTIALS');
  }
  const setup = await s.opaqueSetup;
  const r = await step(c, () => s.passwords.opaqueRegistration(setup, opaqueIdentifier(user.username), p.registrationRequest, `ip:${c.ip}`));
  if (!r.ok) return busyAgain(c, ex, r);
  if (r.value === null) {
    ex.slot.release(); // the password was right: not a failed guess
    return fail('INVALID_AUTH_MESSAGE');
  }
  ex.slot.release();
  s.throttles.loginPerAccountIp.reset(`${ex.key}|${c.ip}`);
  const ksf = s.config.opaqueKsf;
  c.exchange.begin({ kind: 'migrate', userId: user.id, ksf, askedAt: ex.askedAt, clientVersion: ex.clientVersion });
  return ok({ registrationResponse: r.value, ksf });
};

/** An admin's one-time code and the first half of the new record (registerFinish stores it). Throttled like logins. */
export const resetStart: Handler<'resetStart'> = async (s, c, p) => {
  const gate = authGate(s, c) ?? ipBlock(s, c.ip);
  if (gate) return gate;
  c.exchange.drop(); // one at a time: the one before counts as given up, before this one's slots are taken
  const username = p.username.normalize('NFC');
  if (!validUsername(username)) return fail('INVALID_USERNAME');
  const key = username.toLowerCase();
  const askedAt = s.now();
  const user = s.store.users.byName(username);
  const slot = reserveAll(loginSlots(s, key, user, c.ip), askedAt);
  if (isRefusal(slot)) return refusedAnswer(slot);
  const given = Buffer.from(resetCodeHash(p.code), 'hex');
  const stored = user?.reset_code_hash ? Buffer.from(user.reset_code_hash, 'hex') : null;
  const valid = user && stored && stored.length === given.length && timingSafeEqual(stored, given) && (user.reset_expires ?? 0) > askedAt;
  if (!valid) {
    slot.keep(s.now());
    s.log.warn('reset_code_refused', { user: username, ip: c.ip });
    return fail('WRONG_CREDENTIALS');
  }
  slot.release();
  const setup = await s.opaqueSetup;
  const r = await step(c, () => s.passwords.opaqueRegistration(setup, opaqueIdentifier(user.username), p.registrationRequest, `ip:${c.ip}`));
  if (!r.ok) return poolBusy(r);
  if (r.value === null) return fail('INVALID_AUTH_MESSAGE');
  const ksf = s.config.opaqueKsf;
  c.exchange.begin({
    kind: 'reset',
    userId: user.id,
    ksf,
    resetCodeHash: user.reset_code_hash!,
    askedAt,
    clientVersion: p.clientVersion ?? '',
  });
  return ok({ registrationResponse: r.value, ksf });
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

/**
 * A signed-in user proves the password again before changing it or erasing the account: the
 * first half of an OPAQUE login against their record (and, for a change, the first half of the
 * new record's registration). Throttled per user: a stolen session cannot guess without limit.
 */
export const reauthStart: Handler<'reauthStart'> = async (s, c, p) => {
  const me = c.user;
  if (!me) return fail('NOT_AUTHENTICATED');
  const row = s.store.users.byId(me.id);
  if (!row) return fail('UNKNOWN_USER');
  if (row.opaque_record === null) {
    // A session from before OPAQUE (resumed): logging in once with the password moves the account.
    return fail('INVALID_SESSION', { message: 'log out and in again with your password first (once: the account moves to the new login)' });
  }
  // One at a time: the check before counts as given up (a client whose password was wrong sends
  // no finish), before this one's slot is taken; else it would hold the limit "in flight" for good.
  c.exchange.drop();
  const slot = s.throttles.passwordChecksPerUser.reserve(String(me.id), s.now());
  if (isRefusal(slot)) return refusedAnswer(slot, 'too many wrong passwords, try later');
  const setup = await s.opaqueSetup;
  const key = userKey(me.id);
  const started = await s.passwords.opaqueLoginStart(setup, opaqueIdentifier(row.username), row.opaque_record, p.startLoginRequest, key);
  const registered = started.ok && started.value && p.registrationRequest
    ? await s.passwords.opaqueRegistration(setup, opaqueIdentifier(row.username), p.registrationRequest, key)
    : null;
  for (const r of [started, registered]) {
    if (r && !r.ok) {
      slot.release();
      return poolBusy(r);
    }
  }
  const start = started.ok ? started.value : null;
  const response = registered?.ok ? registered.value : null;
  if (!start || (p.registrationRequest && !response)) {
    slot.release();
    return fail('INVALID_AUTH_MESSAGE');
  }
  if (c.closed || c.user !== me) {
    slot.release();
    return fail('INVALID_SESSION');
  }
  const newKsf = response ? s.config.opaqueKsf : null;
  const onAbandoned = () => s.log.warn('password_check_failed', { userId: me.id, finished: false });
  c.exchange.begin({
    kind: 'reauth',
    userId: me.id,
    serverLoginState: start.serverLoginState,
    newKsf,
    slot,
    askedAt: s.now(),
    clientVersion: c.clientVersion,
    onAbandoned,
  });
  return ok({
    loginResponse: start.loginResponse,
    ksf: recordKsf(s, row),
    ...(response && newKsf ? { registrationResponse: response, newKsf } : {}),
  });
};

export const changePassword: Handler<'changePassword'> = async (s, c, p) => {
  const me = c.user;
  if (!me) return fail('NOT_AUTHENTICATED');
  const proven = await provePassword(s, c, p.finishLoginRequest);
  if (!proven.ok) return proven;
  const newKsf = proven.value.newKsf;
  if (!newKsf) return fail('NO_AUTH_EXCHANGE', { message: 'reauthStart had no registrationRequest for the new password' });
  if (!validRecord(p.registrationRecord)) return fail('INVALID_AUTH_MESSAGE');
  const backupKept = s.store.transaction(() => {
    s.store.users.setRecord(me.id, recordOf(p.registrationRecord, newKsf), false);
    s.store.users.deleteSessionsOf(me.id);
    if (c.tokenHash) s.store.users.createSession(c.tokenHash, me.id, s.now());
    // The identity backup's key, sealed under the new password's export key, in the same commit:
    // without it (or for another backup than the one kept) the new password could not open it.
    const rewrapped = p.backupWrap !== undefined && p.backupKeyId !== undefined && s.store.dms.rewrapBackup(me.id, p.backupKeyId, p.backupWrap, s.now());
    return rewrapped || !s.store.dms.deleteBackup(me.id);
  });
  if (!backupKept) s.log.warn('identity_backup_dropped', { user: me.username, reason: 'password changed without sealing it again' });
  me.mustChangePassword = false;
  for (const other of s.hub.connectionsOf(me.id)) {
    if (other !== c) other.close(CLOSE_CODES.SESSION_ENDED, 'password changed');
  }
  s.log.info('password_changed', { user: me.username });
  return ok({ ok: true as const });
};
