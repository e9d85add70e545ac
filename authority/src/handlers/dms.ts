/**
 * The authority's part in direct messages: the key directory, the signaling relay between
 * friends, and relaying or storing envelopes it cannot read. No plaintext ever reaches it,
 * and nothing it logs about a DM or a signal carries content: only who, what size, why refused.
 *
 * Stored envelopes reach a connection in one ordered stream: at session start the backlog
 * goes out a batch at a time (the next batch after each acknowledgement); once a connection
 * has caught up, new envelopes are pushed to it live. Every envelope stays stored until its
 * recipient acknowledges it, so a DM is never lost to a dropped socket.
 */
import { DmEnvelopeSchema, verifyPublicIdentity } from '../../../shared/crypto/index.js';
import { LIMITS } from '../../../shared/protocol/index.js';
import type { Connection } from '../connection.js';
import { fail, isRow, ok, type Handler, type Outcome, type Services } from '../context.js';
import { TokenBucket } from '../throttle.js';
import type { UserRow } from '../store/index.js';

/** Stored envelopes sent per delivery burst. */
export const DELIVERY_BATCH = 200;

const utf8 = new TextEncoder();

function friendNamed(s: Services, c: Connection, username: string): UserRow | Outcome<never> {
  const other = s.store.users.byName(username.normalize('NFC'));
  if (!other) return fail('UNKNOWN_USER', { message: `no user is named ${username}` });
  if (other.id === c.user!.id) return fail('SELF_FRIEND');
  if (!s.store.friends.areFriends(c.user!.id, other.id)) return fail('NOT_FRIENDS');
  return other;
}

/** A refusal worth an operator's eye, logged without the payload. */
function refused<T>(s: Services, c: Connection, event: string, outcome: Outcome<T>, fields: Record<string, unknown> = {}): Outcome<T> {
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
  s.store.dms.putKeys(me.id, p.identity, s.now());
  if (before) {
    // A changed key is announced: each friend's client blocks sending until its user accepts it.
    for (const friendId of s.store.friends.friendIdsOf(me.id)) {
      s.hub.sendToUser(friendId, { ev: 'keysChanged', username: me.username, identity: p.identity });
    }
    s.log.warn('identity_key_changed', { user: me.username, keyId: p.identity.keyId });
  }
  return ok({ ok: true as const });
};

export const fetchKeys: Handler<'fetchKeys'> = (s, c, p) => {
  const name = p.username.normalize('NFC');
  const self = name.toLowerCase() === c.user!.username.toLowerCase();
  const other = self ? s.store.users.byId(c.user!.id) : friendNamed(s, c, name);
  if (!other) return fail('UNKNOWN_USER');
  if (!isRow(other)) return other;
  const identity = s.store.dms.keysOf(other.id);
  return identity ? ok({ identity }) : fail('NO_KEYS');
};

// ---------- signaling ----------

const signalBuckets = new WeakMap<Connection, TokenBucket>();

function takeToken(buckets: WeakMap<Connection, TokenBucket>, c: Connection, rate: number, burst: number, now: number) {
  let bucket = buckets.get(c);
  if (!bucket) {
    bucket = new TokenBucket(rate, burst, now);
    buckets.set(c, bucket);
  }
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
  const rate = takeToken(signalBuckets, c, perSecond, perSecond * 2, s.now());
  if (!rate.ok) return fail('RATE_LIMITED', { until: rate.until });
  const other = friendNamed(s, c, p.to);
  if (!isRow(other)) return refused(s, c, 'signal_refused', other);
  if (nestedDeeperThan(p.data, MAX_SIGNAL_DEPTH)) {
    return refused(s, c, 'signal_refused', fail('SIGNAL_TOO_LARGE', { message: 'the signaling message is nested too deeply' }));
  }
  const data = JSON.stringify(p.data ?? null);
  const bytes = utf8.encode(data).length;
  if (bytes > LIMITS.maxSignalBytes) return refused(s, c, 'signal_refused', fail('SIGNAL_TOO_LARGE'), { bytes });
  if (!s.hub.isOnline(other.id)) return fail('PEER_OFFLINE');
  s.hub.sendToUser(other.id, { ev: 'signalReceived', from: c.user!.username, data: p.data ?? null });
  return ok({ ok: true as const });
};

// ---------- relay and store ----------

const dmBuckets = new WeakMap<Connection, TokenBucket>();

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
  const rate = takeToken(dmBuckets, c, l.messagesPerSecond, l.messageBurst, s.now());
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
  const id = s.store.dms.store(other.id, me.id, p.envelope, now);
  let pushed = false;
  for (const conn of s.hub.connectionsOf(other.id)) {
    const delivery = deliveries.get(conn);
    if (!delivery?.caughtUp || !conn.isOpen) continue; // it comes with the connection's backlog
    conn.send({ ev: 'dmReceived', id, from: me.username, envelope: p.envelope, ts: now });
    delivery.cursor = id;
    pushed = true;
  }
  return ok({ path: pushed || s.hub.isOnline(other.id) ? ('relayed' as const) : ('stored' as const) });
};

/** Deletes the acknowledged envelopes and sends the next batch of the backlog. */
export const ackDms: Handler<'ackDms'> = (s, c, p) => {
  s.store.dms.ack(p.ids, c.user!.id);
  const delivery = deliveries.get(c);
  if (delivery && !delivery.caughtUp) deliverNextBatch(s, c, delivery);
  return ok({ ok: true as const });
};

/** The backlog again from its start (a DM engine that started after its session did). */
export const resendStoredDms: Handler<'resendStoredDms'> = (s, c) => {
  deliverStoredDms(s, c);
  return ok({ ok: true as const });
};

interface Delivery {
  userId: number;
  /** Highest stored-envelope id handed to this connection. */
  cursor: number;
  /** The backlog is drained: new envelopes are pushed live. */
  caughtUp: boolean;
}

const deliveries = new WeakMap<Connection, Delivery>();

/**
 * Session start: hands over what waited while the user was away, a batch at a time
 * (the next batch goes when the client acknowledges, so a large backlog never floods a socket).
 */
export function deliverStoredDms(s: Services, c: Connection): void {
  if (!c.user || !c.isOpen) return;
  const delivery: Delivery = { userId: c.user.id, cursor: 0, caughtUp: false };
  deliveries.set(c, delivery);
  deliverNextBatch(s, c, delivery);
}

function deliverNextBatch(s: Services, c: Connection, delivery: Delivery): void {
  if (!c.user || c.user.id !== delivery.userId || !c.isOpen) return;
  const oldest = s.now() - s.config.limits.storedDmMaxAgeMs;
  const rows = s.store.dms.pendingFor(delivery.userId, delivery.cursor, oldest, DELIVERY_BATCH);
  for (const row of rows) {
    c.send({ ev: 'dmReceived', id: row.id, from: row.from_name, envelope: row.envelope, ts: row.created_at, stored: true });
    delivery.cursor = row.id;
  }
  if (rows.length < DELIVERY_BATCH) delivery.caughtUp = true;
}
