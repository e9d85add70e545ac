/**
 * The end-to-end encrypted DM envelope: the same string travels over the WebRTC data
 * channel, through the authority's relay and into its offline store, which can read
 * only who it is from and to (key ids), never the content.
 *
 *   wire (JSON)       { v: 1, from: senderKeyId, to: recipientKeyId, nonce, ct }
 *   ct decrypts to    { id, ts, from: senderUsername, to: recipientUsername, body }
 *
 * nacl.box with a shared key precomputed once per pair of pinned identities.
 * Opening fails closed with a stable reason code and never throws on hostile input.
 */
import nacl from 'tweetnacl';
import { z } from 'zod';
import { ClientId, isCleanText, KeyLogHead, LIMITS, PublicIdentity, Username } from '../protocol/index.js';
import { isBase64, base64Length, base64ToBytes, bytesToBase64, utf8Decode, utf8Encode } from './encoding.js';
import { verifyPublicIdentity, type DeviceIdentity } from './identity.js';
import type { ReplayGuard } from './replay-guard.js';
import { publicRandomBytes } from './random.js';

export const DM_ENVELOPE_VERSION = 1;
/** Message ids acknowledged by one receipt (keeps a receipt well under the envelope limit). */
export const MAX_RECEIPT_IDS = 100;

const KeyId = PublicIdentity.shape.keyId;

export const DmEnvelopeSchema = z
  .object({
    v: z.literal(DM_ENVELOPE_VERSION),
    from: KeyId,
    to: KeyId,
    nonce: z.string().length(base64Length(nacl.box.nonceLength)).refine(isBase64, 'base64'),
    ct: z
      .string()
      .min(base64Length(nacl.box.overheadLength))
      .max(LIMITS.maxEnvelopeChars)
      .refine(isBase64, 'base64'),
  })
  .strict();
export type DmEnvelope = z.infer<typeof DmEnvelopeSchema>;

// Lone surrogates would be escaped as \uXXXX and could push a full-length text past the envelope limit.
const LONE_SURROGATE = /\p{Surrogate}/u;

const DmText = z
  .string()
  .max(LIMITS.maxMessageChars)
  .refine((t) => isCleanText(t) && !LONE_SURROGATE.test(t), 'text holds no control characters');

export const DmBodySchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('text'), text: DmText }).strict(),
  z.object({ kind: z.literal('receipt'), ids: z.array(ClientId).min(1).max(MAX_RECEIPT_IDS) }).strict(),
  /** Key log gossip (shared/client/dm/key-log-watch.ts): the newest head the sender's device saw. */
  z.object({ kind: z.literal('logHead'), head: KeyLogHead }).strict(),
  /**
   * A DM one of my devices sent or received directly, for my other devices (sealed to my own
   * key, shared/client/dm/device-sync.ts); the envelope's id and ts are the DM's.
   */
  z
    .object({
      kind: z.literal('sync'),
      peer: Username,
      direction: z.enum(['in', 'out']),
      text: DmText,
      path: z.enum(['direct', 'relayed', 'stored']).nullable(),
    })
    .strict(),
  /** A history sent to my new device (shared/client/dm/history-transfer.ts): how many copies follow, then the end. */
  z.object({ kind: z.literal('historyStart'), total: z.number().int().min(0).max(10_000_000) }).strict(),
  z.object({ kind: z.literal('historyEnd') }).strict(),
]);
export type DmBody = z.infer<typeof DmBodySchema>;

const PlaintextTs = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

export const DmPlaintextSchema = z
  .object({
    id: ClientId,
    ts: PlaintextTs,
    from: Username,
    to: Username,
    body: DmBodySchema,
  })
  .strict();
export type DmPlaintext = z.infer<typeof DmPlaintextSchema>;

export const ENVELOPE_REJECTIONS = [
  'MALFORMED', // not an envelope, or its plaintext is not a DM
  'UNSUPPORTED_VERSION',
  'UNPINNED_KEY', // sent by a key other than the one pinned for this friend
  'WRONG_RECIPIENT', // meant for another key or another user
  'TAMPERED', // does not decrypt under the pinned keys
  'REPLAYED', // this message id was already accepted
  'STALE', // too old, too far in the future, or older than what the replay guard remembers
  'WRONG_SENDER', // the plaintext names someone other than the friend whose key sealed it
] as const;
export type EnvelopeRejection = (typeof ENVELOPE_REJECTIONS)[number];

export type OpenEnvelopeResult = { ok: true; message: DmPlaintext } | { ok: false; reason: EnvelopeRejection };

/** One side of a conversation: its username and its identity. */
export type Party<I> = { username: string; identity: I };

/** The precomputed keys of one conversation between two pinned identities. */
export type ChannelKeys = Readonly<{
  myKeyId: string;
  myUsername: string;
  theirKeyId: string;
  theirUsername: string;
  /** Names this conversation in a ReplayGuard. */
  conversation: string;
}>;

// Held apart from ChannelKeys so that logging or serialising the keys object never shows the secret.
const sharedKeys = new WeakMap<ChannelKeys, Uint8Array>();

/**
 * Precomputes the shared key with a friend's pinned public identity.
 * Throws if `them.identity` does not verify: verify before pinning.
 */
export function createChannelKeys(me: Party<DeviceIdentity>, them: Party<PublicIdentity>): ChannelKeys {
  if (!verifyPublicIdentity(them.identity)) throw new TypeError('createChannelKeys: public identity does not verify');
  Username.parse(me.username);
  Username.parse(them.username);
  const theirBox = base64ToBytes(them.identity.boxPublicKey, nacl.box.publicKeyLength);
  if (!theirBox) throw new TypeError('createChannelKeys: bad box public key');
  const keys: ChannelKeys = Object.freeze({
    myKeyId: me.identity.keyId,
    myUsername: me.username,
    theirKeyId: them.identity.keyId,
    theirUsername: them.username,
    conversation: `${me.identity.keyId}<${them.identity.keyId}`,
  });
  sharedKeys.set(keys, nacl.box.before(theirBox, me.identity.box.secretKey));
  return keys;
}

function sharedKeyOf(keys: ChannelKeys): Uint8Array {
  const key = sharedKeys.get(keys);
  if (!key) throw new TypeError('ChannelKeys must come from createChannelKeys');
  return key;
}

/** Usernames are unique without regard to case. */
function sameUser(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** What the caller chooses; the usernames come from the channel keys. */
export type DmContent = { id: string; ts?: number; body: DmBody };

/** Seals a DM into its wire form. Throws on content that breaks the schema (check text length first). */
export function sealEnvelope(keys: ChannelKeys, content: DmContent): string {
  // The usernames were checked when the keys were made; the rest is checked as the friend will.
  const plaintext: DmPlaintext = {
    id: ClientId.parse(content.id),
    ts: PlaintextTs.parse(content.ts ?? Date.now()),
    from: keys.myUsername,
    to: keys.theirUsername,
    body: DmBodySchema.parse(content.body),
  };
  const nonce = publicRandomBytes(nacl.box.nonceLength);
  const ct = nacl.box.after(utf8Encode(JSON.stringify(plaintext)), nonce, sharedKeyOf(keys));
  const envelope: DmEnvelope = {
    v: DM_ENVELOPE_VERSION,
    from: keys.myKeyId,
    to: keys.theirKeyId,
    nonce: bytesToBase64(nonce),
    ct: bytesToBase64(ct),
  };
  const wire = JSON.stringify(envelope);
  if (wire.length > LIMITS.maxEnvelopeChars) throw new RangeError('sealEnvelope: envelope too large');
  return wire;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function reject(reason: EnvelopeRejection): OpenEnvelopeResult {
  return { ok: false, reason };
}

/**
 * Opens an envelope received from `keys.theirUsername`, and records its id in `guard`
 * when it is accepted. The reason of a rejection never carries message content.
 */
export function openEnvelope(keys: ChannelKeys, wire: unknown, guard: ReplayGuard): OpenEnvelopeResult {
  if (typeof wire !== 'string' || wire.length > LIMITS.maxEnvelopeChars) return reject('MALFORMED');
  const json = parseJson(wire);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return reject('MALFORMED');
  const version: unknown = (json as { v?: unknown }).v;
  if (typeof version === 'number' && version !== DM_ENVELOPE_VERSION) return reject('UNSUPPORTED_VERSION');
  const parsed = DmEnvelopeSchema.safeParse(json);
  if (!parsed.success) return reject('MALFORMED');
  const envelope = parsed.data;

  if (envelope.from !== keys.theirKeyId) return reject('UNPINNED_KEY');
  if (envelope.to !== keys.myKeyId) return reject('WRONG_RECIPIENT');

  const nonce = base64ToBytes(envelope.nonce, nacl.box.nonceLength);
  const ct = base64ToBytes(envelope.ct);
  if (!nonce || !ct) return reject('MALFORMED');
  const opened = nacl.box.open.after(ct, nonce, sharedKeyOf(keys));
  if (!opened) return reject('TAMPERED');

  // Authenticated from here on: a bad plaintext comes from the friend's own key.
  const text = utf8Decode(opened);
  const plaintext = DmPlaintextSchema.safeParse(text === null ? undefined : parseJson(text));
  if (!plaintext.success) return reject('MALFORMED');
  const message = plaintext.data;

  if (!sameUser(message.to, keys.myUsername)) return reject('WRONG_RECIPIENT');
  if (!sameUser(message.from, keys.theirUsername)) return reject('WRONG_SENDER');
  const verdict = guard.admit(keys.conversation, message.id, message.ts);
  if (verdict) return reject(verdict);
  return { ok: true, message };
}
