/**
 * The authority's part in direct messages: the key directory, signaling relay between
 * friends, and relaying or storing envelopes it cannot read. No plaintext ever reaches it.
 */
import nacl from 'tweetnacl';
import { LIMITS, type PublicIdentity } from '../../../shared/protocol/index.js';
import type { Connection } from '../connection.js';
import { fail, ok, type Handler, type Outcome, type Services } from '../context.js';
import { TokenBucket } from '../throttle.js';
import type { UserRow } from '../store/index.js';

const IDENTITY_CONTEXT = 'chandler-id-v1';
/** Stored envelopes sent per delivery burst at session start. */
const DELIVERY_BATCH = 200;

function b64(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'base64'));
}

export function identitySignatureValid(id: PublicIdentity): boolean {
  try {
    const msg = new TextEncoder().encode(`${IDENTITY_CONTEXT}|${id.keyId}|${id.boxPublicKey}`);
    const sig = b64(id.signature);
    const pk = b64(id.signPublicKey);
    return sig.length === 64 && pk.length === 32 && b64(id.boxPublicKey).length === 32 && nacl.sign.detached.verify(msg, sig, pk);
  } catch {
    return false;
  }
}

function friendNamed(s: Services, c: Connection, username: string): UserRow | Outcome<never> {
  const other = s.store.users.byName(username.normalize('NFC'));
  if (!other) return fail('UNKNOWN_USER', { message: `no user is named ${username}` });
  if (other.id === c.user!.id) return fail('SELF_FRIEND');
  if (!s.store.friends.areFriends(c.user!.id, other.id)) return fail('NOT_FRIENDS');
  return other;
}

function isUser(x: UserRow | Outcome<never>): x is UserRow {
  return 'id' in x;
}

export const publishKeys: Handler<'publishKeys'> = (s, c, p) => {
  if (!identitySignatureValid(p.identity)) return fail('INVALID_KEYS');
  const me = c.user!;
  const before = s.store.dms.keysOf(me.id);
  if (before?.keyId === p.identity.keyId && before.boxPublicKey === p.identity.boxPublicKey) return ok({ ok: true as const });
  s.store.dms.putKeys(me.id, p.identity, s.now());
  if (before) {
    // A changed key is announced: each friend's client blocks sending until its user accepts it.
    for (const friendId of s.store.friends.friendIdsOf(me.id)) {
      s.hub.sendToUser(friendId, { ev: 'keysChanged', username: me.username, identity: p.identity });
    }
    s.log.warn('identity_key_changed', { user: me.username });
  }
  return ok({ ok: true as const });
};

export const fetchKeys: Handler<'fetchKeys'> = (s, c, p) => {
  const name = p.username.normalize('NFC');
  const self = name.toLowerCase() === c.user!.username.toLowerCase();
  const other = self ? s.store.users.byId(c.user!.id) : friendNamed(s, c, name);
  if (!other) return fail('UNKNOWN_USER');
  if (!isUser(other)) return other;
  const identity = s.store.dms.keysOf(other.id);
  return identity ? ok({ identity }) : fail('NO_KEYS');
};

const signalBuckets = new WeakMap<Connection, TokenBucket>();

export const sendSignal: Handler<'sendSignal'> = (s, c, p) => {
  const other = friendNamed(s, c, p.to);
  if (!isUser(other)) return other;
  const size = JSON.stringify(p.data ?? null).length;
  if (size > LIMITS.maxSignalBytes) return fail('SIGNAL_TOO_LARGE');
  let bucket = signalBuckets.get(c);
  if (!bucket) {
    bucket = new TokenBucket(s.config.limits.signalsPerSecond, s.config.limits.signalsPerSecond * 2, s.now());
    signalBuckets.set(c, bucket);
  }
  const rate = bucket.take(s.now());
  if (!rate.ok) return fail('RATE_LIMITED', { until: rate.until });
  if (!s.hub.isOnline(other.id)) return fail('PEER_OFFLINE');
  s.hub.sendToUser(other.id, { ev: 'signalReceived', from: c.user!.username, data: p.data ?? null });
  return ok({ ok: true as const });
};

export const relayDm: Handler<'relayDm'> = (s, c, p) => {
  const other = friendNamed(s, c, p.to);
  if (!isUser(other)) return other;
  if (p.envelope.length > LIMITS.maxEnvelopeChars) return fail('ENVELOPE_TOO_LARGE');
  if (s.store.dms.countFor(other.id) >= s.config.limits.storedDmsPerRecipient) return fail('STORE_FULL');
  const now = s.now();
  // Kept until the recipient acknowledges it, even when it is online now: nothing is lost.
  const id = s.store.dms.store(other.id, c.user!.id, p.envelope, now);
  const online = s.hub.isOnline(other.id);
  if (online) s.hub.sendToUser(other.id, { ev: 'dmReceived', id, from: c.user!.username, envelope: p.envelope, ts: now });
  return ok({ path: online ? ('relayed' as const) : ('stored' as const) });
};

export const ackDms: Handler<'ackDms'> = (s, c, p) => {
  s.store.dms.ack(p.ids, c.user!.id);
  deliverStoredDms(s, c);
  return ok({ ok: true as const });
};

/**
 * Hands over what waited while the user was away, a batch at a time: the next batch goes
 * when the client acknowledges (ackDms), so a large backlog never floods one socket.
 */
export function deliverStoredDms(s: Services, c: Connection): void {
  if (!c.user || !c.isOpen) return;
  for (const row of s.store.dms.pendingFor(c.user.id, c.dmCursor, DELIVERY_BATCH)) {
    c.send({ ev: 'dmReceived', id: row.id, from: row.from_name, envelope: row.envelope, ts: row.created_at });
    c.dmCursor = row.id;
  }
}
