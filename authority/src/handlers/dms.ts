/**
 * The authority's part in direct messages: the key directory, the signaling relay between
 * friends, and relaying or storing envelopes it cannot read. No plaintext ever reaches it,
 * and nothing it logs about a DM or a signal carries content: only who, what size, why refused.
 * Every envelope stays stored until its recipient acknowledges it, so a DM is never lost to a
 * dropped socket; how stored envelopes reach a connection is dm-delivery.ts.
 */
import { DmEnvelopeSchema, verifyPublicIdentity } from '../../../shared/crypto/index.js';
import { keyLogName } from '../../../shared/crypto/key-log.js';
import { CLOSE_CODES, fail, LIMITS, ok, type ErrorCode, type Outcome } from '../../../shared/protocol/index.js';
import type { Connection } from '../connection.js';
import { isRow, type Handler, type Services } from '../context.js';
import { deliverNextBatch, deliverStoredDms, pushStoredDm } from '../dm-delivery.js';
import { findUser } from '../lookup.js';
import { TokenBucket } from '../throttle.js';
import type { UserRow } from '../store/index.js';

const utf8 = new TextEncoder();

function friendNamed(s: Services, c: Connection, username: string): UserRow | Outcome<never, ErrorCode> {
  const other = findUser(s, username);
  if (!isRow(other)) return other;
  if (other.id === c.user!.id) return fail('SELF_FRIEND');
  if (!s.store.friends.areFriends(c.user!.id, other.id)) return fail('NOT_FRIENDS');
  return other;
}

/** A refusal worth an operator's eye, logged without the payload. */
function refused<T>(
  s: Services,
  c: Connection,
  event: string,
  outcome: Outcome<T, ErrorCode>,
  fields: Record<string, unknown> = {},
): Outcome<T, ErrorCode> {
  if (!outcome.ok) s.log.warn(event, { user: c.user!.username, code: outcome.error.code, ...fields });
  return outcome;
}

// ---------- key directory ----------

export const publishKeys: Handler<'publishKeys'> = (s, c, p) => {
  // Checks the key id names the keys and the signing key signed the box key, in canonical base64.
  if (!verifyPublicIdentity(p.identity)) return refused(s, c, 'keys_refused', fail('INVALID_KEYS'));
  const me = c.user!;
  const before = s.store.dms.keysOf(me.id);
  if (before?.keyId === p.identity.keyId) return ok({ ok: true as const });
  // The directory row and the key log's leaf together: no key is announced that is not logged.
  s.keyLog.publish(me.id, me.username, p.identity, s.now());
  if (before) {
    // A changed key is announced: each friend's client blocks sending until its user accepts it.
    for (const friendId of s.store.friends.friendIdsOf(me.id)) {
      s.hub.sendToUser(friendId, 'keysChanged', { username: me.username, identity: p.identity });
    }
    s.log.warn('identity_key_changed', { user: me.username, keyId: p.identity.keyId });
  }
  return ok({ ok: true as const });
};

/** A user's key as the directory announces it: the newest binding of their name in the key log, with its proof. */
export const fetchKeys: Handler<'fetchKeys'> = (s, c, p) => {
  const name = p.username.normalize('NFC');
  const self = name.toLowerCase() === c.user!.username.toLowerCase();
  const other = self ? s.store.users.byId(c.user!.id) : friendNamed(s, c, name);
  if (!other) return fail('UNKNOWN_USER');
  if (!isRow(other)) return other;
  const logged = s.store.keyLog.latestFor(keyLogName(other.username));
  if (!logged || logged.userId !== other.id || !s.store.dms.keysOf(other.id)) return fail('NO_KEYS');
  return ok({ identity: logged.identity, log: s.keyLog.inclusion(logged.index) });
};

/** The caller's sealed identity: ciphertext only its user's export key opens (docs/SECURITY.md). */
export const getIdentityBackup: Handler<'getIdentityBackup'> = (s, c) => ok({ backup: s.store.dms.backupOf(c.user!.id) });

/**
 * Keeps the caller's sealed identity in place of the one they read (`replaces`): two new devices
 * that each made an identity at once do not overwrite each other; the second is told to take the
 * first's. The authority cannot check what is inside; a device that cannot open it replaces it.
 */
export const putIdentityBackup: Handler<'putIdentityBackup'> = (s, c, p) => {
  const me = c.user!;
  const kept = s.store.dms.backupOf(me.id);
  if ((kept?.keyId ?? null) !== p.replaces) return fail('BACKUP_CONFLICT');
  s.store.dms.putBackup(me.id, p.backup, s.now());
  if (kept) s.log.warn('identity_backup_replaced', { user: me.username, keyId: p.backup.keyId, was: kept.keyId });
  else s.log.info('identity_backup_kept', { user: me.username, keyId: p.backup.keyId });
  return ok({ ok: true as const });
};

export const keyLogHead: Handler<'keyLogHead'> = (s) => ok({ publicKey: s.keyLog.publicKey, head: s.keyLog.currentHead() });

export const keyLogConsistency: Handler<'keyLogConsistency'> = (s, _c, p) => {
  const path = s.keyLog.consistency(p.from, p.to);
  return path ? ok({ path }) : fail('BAD_REQUEST', { message: `the key log has ${s.keyLog.size} entries: no proof from ${p.from} to ${p.to}` });
};

/** The caller's own bindings, with proofs: what a client checks against the keys it published. */
export const keyLogMine: Handler<'keyLogMine'> = (s, c, p) => {
  const me = c.user!;
  const page = s.store.keyLog.pageFor(keyLogName(me.username), p.after ?? -1, LIMITS.keyLogPageSize + 1);
  const more = page.length > LIMITS.keyLogPageSize;
  const entries = page.slice(0, LIMITS.keyLogPageSize).map((e) => ({ identity: e.identity, log: s.keyLog.inclusion(e.index) }));
  return ok({ entries, next: more ? entries.at(-1)!.log.index : null });
};

// ---------- signaling ----------

/** The connection's bucket for one kind of DM traffic, made on first use. */
function takeToken(c: Connection, kind: 'signals' | 'envelopes', rate: number, burst: number, now: number) {
  const bucket = (c.dm[kind] ??= new TokenBucket(rate, burst, now));
  return bucket.take(now);
}

/** SDP and ICE payloads are a few levels deep; deeper nesting is refused before serialising (which recurses). */
const MAX_SIGNAL_DEPTH = 32;

function nestedDeeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth >= limit) return true;
    for (const x of Object.values(v)) stack.push([x, depth + 1]);
  }
  return false;
}

export const sendSignal: Handler<'sendSignal'> = (s, c, p) => {
  const perSecond = s.config.limits.signalsPerSecond;
  const rate = takeToken(c, 'signals', perSecond, perSecond * 2, s.now());
  if (!rate.ok) return fail('RATE_LIMITED', { until: rate.until });
  const me = c.user!;
  // To myself: my other sessions (a new device asking another for the DM history).
  if (p.to.normalize('NFC').toLowerCase() === me.username.toLowerCase()) return signalMyDevices(s, c, p.data);
  const other = friendNamed(s, c, p.to);
  if (!isRow(other)) return refused(s, c, 'signal_refused', other);
  const checked = signalPayload(s, c, p.data);
  if (!checked.ok) return checked;
  if (!s.hub.isOnline(other.id)) return fail('PEER_OFFLINE');
  s.hub.sendToUser(other.id, 'signalReceived', { from: me.username, data: p.data ?? null });
  return ok({ ok: true as const });
};

/** A signal's payload is carried unread, but not one nested too deeply or too large. */
function signalPayload(s: Services, c: Connection, data: unknown): Outcome<void, ErrorCode> {
  if (nestedDeeperThan(data, MAX_SIGNAL_DEPTH)) {
    return refused(s, c, 'signal_refused', fail('SIGNAL_TOO_LARGE', { message: 'the signaling message is nested too deeply' }));
  }
  const bytes = utf8.encode(JSON.stringify(data ?? null)).length;
  if (bytes > LIMITS.maxSignalBytes) return refused(s, c, 'signal_refused', fail('SIGNAL_TOO_LARGE'), { bytes });
  return ok(undefined);
}

function signalMyDevices(s: Services, c: Connection, data: unknown): Outcome<{ ok: true }, ErrorCode> {
  const me = c.user!;
  const checked = signalPayload(s, c, data);
  if (!checked.ok) return checked;
  const others = [...s.hub.connectionsOf(me.id)].filter((x) => x !== c);
  if (others.length === 0) return fail('PEER_OFFLINE', { message: 'none of your other devices is connected' });
  for (const other of others) other.send('signalReceived', { from: me.username, data: data ?? null });
  return ok({ ok: true as const });
}

// ---------- relay and store ----------

function parseEnvelope(text: string) {
  try {
    return DmEnvelopeSchema.safeParse(JSON.parse(text));
  } catch {
    return null;
  }
}

export const relayDm: Handler<'relayDm'> = (s, c, p) => {
  const me = c.user!;
  const l = s.config.limits;
  const rate = takeToken(c, 'envelopes', l.messagesPerSecond, l.messageBurst, s.now());
  if (!rate.ok) return fail('RATE_LIMITED', { until: rate.until });
  const other = friendNamed(s, c, p.to);
  if (!isRow(other)) return refused(s, c, 'dm_refused', other);
  if (p.envelope.length > LIMITS.maxEnvelopeChars) return refused(s, c, 'dm_refused', fail('ENVELOPE_TOO_LARGE'));
  // The authority cannot read an envelope, but it can refuse one that is not shaped like one,
  // or that is sealed for keys other than the two published ones (it could never be opened).
  const envelope = parseEnvelope(p.envelope);
  if (!envelope?.success) {
    return refused(s, c, 'dm_refused', fail('BAD_REQUEST', { message: 'bad request: envelope: not a DM envelope' }));
  }
  const theirKeys = s.store.dms.keysOf(other.id);
  if (!theirKeys) return refused(s, c, 'dm_refused', fail('NO_KEYS'));
  if (envelope.data.to !== theirKeys.keyId || envelope.data.from !== s.store.dms.keysOf(me.id)?.keyId) {
    return refused(
      s,
      c,
      'dm_refused',
      fail('INVALID_KEYS', { message: "the envelope is not sealed between the two users' published keys: fetch their keys again" }),
    );
  }
  if (s.store.dms.countFor(other.id) >= l.storedDmsPerRecipient) return refused(s, c, 'dm_refused', fail('STORE_FULL'));
  const now = s.now();
  // Kept until the recipient acknowledges it, even when it is online now: nothing is lost.
  const id = s.store.dms.store(other.id, me.id, p.envelope, now, l.storedDmsPerRecipient);
  const pushed = pushStoredDm(s, { id, to_id: other.id, from_name: me.username, envelope: p.envelope, created_at: now }, null);
  return ok({ path: pushed || s.hub.isOnline(other.id) ? ('relayed' as const) : ('stored' as const) });
};

/** Deletes the acknowledged envelopes and sends the next batch of the backlog. */
export const ackDms: Handler<'ackDms'> = (s, c, p) => {
  s.store.dms.ack(p.ids, c.user!.id, c.dm.deviceId);
  deliverNextBatch(s, c);
  return ok({ ok: true as const });
};

/** The backlog again from its start (a DM engine that started after its session did). */
export const resendStoredDms: Handler<'resendStoredDms'> = (s, c) => {
  deliverStoredDms(s, c);
  return ok({ ok: true as const });
};

// ---------- a user's devices ----------

/** Which device this connection is: stored envelopes wait for each device, and the user can list and revoke them. */
export const helloDevice: Handler<'helloDevice'> = (s, c, p) => {
  const me = c.user!;
  if (c.dm.deviceId !== null && c.dm.deviceId !== p.deviceId) {
    return fail('BAD_REQUEST', { message: 'this connection already said which device it is' });
  }
  const known = s.store.devices.get(me.id, p.deviceId) !== undefined;
  if (!known && s.store.devices.count(me.id) >= LIMITS.maxDevices) return refused(s, c, 'device_refused', fail('TOO_MANY_DEVICES'));
  s.store.devices.seen(me.id, p.deviceId, p.name.normalize('NFC'), c.tokenHash, s.now());
  c.dm.deviceId = p.deviceId;
  // My other devices learn that one of them is here (copies have somewhere to go; a new device
  // still waiting for the DM history can ask it).
  for (const other of s.hub.connectionsOf(me.id)) if (other !== c) other.send('devicesChanged', {});
  return ok({ ok: true as const });
};

export const listDevices: Handler<'listDevices'> = (s, c) => {
  const me = c.user!;
  const online = new Set([...s.hub.connectionsOf(me.id)].map((x) => x.dm.deviceId));
  const devices = s.store.devices.of(me.id).map((d) => ({
    id: d.device_id,
    name: d.name,
    createdAt: d.created_at,
    lastSeen: d.last_seen,
    online: online.has(d.device_id),
    current: d.device_id === c.dm.deviceId,
  }));
  return ok({ devices });
};

/** Forgets another device of the caller and ends its sessions: it must log in again with the password. */
export const revokeDevice: Handler<'revokeDevice'> = (s, c, p) => {
  const me = c.user!;
  if (p.deviceId === c.dm.deviceId) return fail('CANNOT_TARGET_SELF', { message: 'this is the device you are using: log out instead' });
  if (!s.store.devices.revoke(me.id, p.deviceId)) return fail('UNKNOWN_DEVICE');
  // What only that device still lacked is not kept for it any more.
  s.store.dms.deleteDelivered(me.id);
  for (const other of [...s.hub.connectionsOf(me.id)]) {
    if (other.dm.deviceId === p.deviceId) other.close(CLOSE_CODES.SESSION_ENDED, 'device revoked');
  }
  s.log.info('device_revoked', { user: me.username, deviceId: p.deviceId });
  return ok({ ok: true as const });
};

/**
 * A DM one device sent or received directly, for the user's other devices: sealed by the device
 * to the user's own key (the authority checks that much, and cannot read it), kept until each of
 * them has it, and pushed to those online now.
 */
export const syncDm: Handler<'syncDm'> = (s, c, p) => {
  const me = c.user!;
  const l = s.config.limits;
  const rate = takeToken(c, 'envelopes', l.messagesPerSecond, l.messageBurst, s.now());
  if (!rate.ok) return fail('RATE_LIMITED', { until: rate.until });
  if (c.dm.deviceId === null) return fail('UNKNOWN_DEVICE', { message: 'this connection has not said which device it is (helloDevice)' });
  const envelope = parseEnvelope(p.envelope);
  if (!envelope?.success) {
    return refused(s, c, 'dm_refused', fail('BAD_REQUEST', { message: 'bad request: envelope: not a DM envelope' }));
  }
  const mine = s.store.dms.keysOf(me.id)?.keyId;
  if (!mine || envelope.data.to !== mine || envelope.data.from !== mine) {
    return refused(s, c, 'dm_refused', fail('INVALID_KEYS', { message: 'a copy for your devices is sealed to your own published key' }));
  }
  const others = s.store.devices.of(me.id).filter((d) => d.device_id !== c.dm.deviceId);
  if (others.length === 0) return ok({ stored: false });
  if (s.store.dms.countFor(me.id) >= l.storedDmsPerRecipient) return refused(s, c, 'dm_refused', fail('STORE_FULL'));
  const now = s.now();
  const id = s.store.dms.store(me.id, me.id, p.envelope, now, l.storedDmsPerRecipient);
  // The device that sent it has it.
  s.store.dms.ack([id], me.id, c.dm.deviceId);
  pushStoredDm(s, { id, to_id: me.id, from_name: me.username, envelope: p.envelope, created_at: now }, c.dm.deviceId);
  return ok({ stored: true });
};
