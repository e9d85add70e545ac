/**
 * The wire between clients and the authority: every frame declared once as a zod
 * schema, its TypeScript type inferred from it.
 *
 *   client → authority  { id, type, ...params }                 (a request)
 *   authority → client  { re: id, ok: true, result }             (its reply)
 *                       { re: id, ok: false, error }             (a typed failure)
 *                       { ev: name, ...data }                    (a live event)
 */
import { z } from 'zod';
import { ERROR_CODES, PASSWORD_WEAKNESSES } from './errors.js';
import { CONTROL_CHARS, LIMITS, TEXT_FORBIDDEN_CHARS, USERNAME_PATTERN } from './limits.js';

// ---------- field shapes ----------

/** A username as typed: shape is checked by the handler so that it can answer INVALID_USERNAME. */
export const UsernameInput = z.string().max(LIMITS.usernameMax * 4);
export const Username = z
  .string()
  .min(LIMITS.usernameMin)
  .max(LIMITS.usernameMax)
  .regex(USERNAME_PATTERN);
export const Password = z.string().max(LIMITS.passwordMax);
export const RoomName = z
  .string()
  .min(LIMITS.roomNameMin)
  .max(LIMITS.roomNameMax)
  .refine((s) => !CONTROL_CHARS.test(s) && s.trim() === s, 'room names hold no control characters');
/** Message text is length-checked by the handler so that it can answer TEXT_TOO_LONG. */
export const MessageText = z.string().max(LIMITS.maxMessageChars * 4);
export const ClientId = z
  .string()
  .min(LIMITS.clientIdMin)
  .max(LIMITS.clientIdMax)
  .regex(/^[A-Za-z0-9_-]+$/);
export const Seq = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
export const PageLimit = z.number().int().min(1).max(LIMITS.maxPageSize);
export const RoomPolicy = z.enum(['open', 'approval', 'closed']);
export const Access = z.enum(['member', 'pending', 'none']);
export const FriendState = z.enum(['friends', 'incoming', 'outgoing']);
export const Token = z.string().min(16).max(LIMITS.maxTokenChars);
export const ClientVersion = z.string().max(LIMITS.maxClientVersionChars).optional();
const Base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/);
/** An OPAQUE protocol message (RFC 9807), base64url: the authority checks it further, in a worker. */
export const OpaqueMessage = z.string().min(1).max(LIMITS.maxOpaqueMessageChars).regex(/^[A-Za-z0-9_-]+$/);
export const ResetCode = z.string().min(1).max(LIMITS.maxResetCodeChars);
/**
 * The key stretching (Argon2id) a client runs on the password inside OPAQUE: the authority says
 * which, per account (the record was made with it); `memory` in KiB.
 */
export const OpaqueKsf = z
  .object({
    iterations: z.number().int().min(1).max(16),
    memory: z.number().int().min(8).max(1024 * 1024),
    parallelism: z.number().int().min(1).max(4),
  })
  .strict()
  .refine((k) => k.memory >= 8 * k.parallelism, 'Argon2 needs at least 8 KiB per lane');
export type OpaqueKsf = z.infer<typeof OpaqueKsf>;
/**
 * The authority's default for new records: 32 MiB and three passes, the memory of the scrypt
 * used before OPAQUE (N=2^15, r=8) and about its time. The desktop app accepts no less.
 */
export const DEFAULT_OPAQUE_KSF: OpaqueKsf = { iterations: 3, memory: 32 * 1024, parallelism: 1 };

export function isCleanText(text: string): boolean {
  return !TEXT_FORBIDDEN_CHARS.test(text) && text.trim().length > 0;
}

// ---------- records ----------

export const UserInfo = z.object({
  username: z.string(),
  admin: z.boolean(),
  mustChangePassword: z.boolean(),
});
export type UserInfo = z.infer<typeof UserInfo>;

export const RoomInfo = z.object({
  name: z.string(),
  policy: RoomPolicy,
  access: Access,
  lastSeq: Seq,
  members: z.number().int(),
});
export type RoomInfo = z.infer<typeof RoomInfo>;

export const RoomMessage = z.object({
  room: z.string(),
  seq: Seq,
  clientId: z.string(),
  author: z.string(),
  text: z.string(),
  ts: z.number(),
});
export type RoomMessage = z.infer<typeof RoomMessage>;

export const FriendInfo = z.object({
  username: z.string(),
  state: FriendState,
  online: z.boolean(),
});
export type FriendInfo = z.infer<typeof FriendInfo>;

export const AccessRequestInfo = z.object({
  username: z.string(),
  room: z.string(),
  ts: z.number(),
  /** How many requests this user has pending in all: many at once must stand out (seed §4b). */
  pendingFromUser: z.number().int(),
});
export type AccessRequestInfo = z.infer<typeof AccessRequestInfo>;

/** One account as an admin sees it. */
export const AdminUserInfo = z.object({
  username: z.string(),
  admin: z.boolean(),
  banned: z.boolean(),
  /** End of a kick still running (ms since epoch), else null. */
  kickedUntil: z.number().nullable(),
  online: z.boolean(),
});
export type AdminUserInfo = z.infer<typeof AdminUserInfo>;

/** Shown to the banned user: one line, no control characters. */
export const BanReason = z
  .string()
  .max(LIMITS.maxBanReasonChars)
  .refine((s) => !CONTROL_CHARS.test(s), 'ban reasons hold no control characters');

/** A device of a user: a random id its DM engine chose (not a secret), and a name for people. */
export const DeviceId = z.string().regex(/^[A-Za-z0-9_-]{16,64}$/);
export const DeviceName = z
  .string()
  .min(1)
  .max(LIMITS.maxDeviceNameChars)
  .refine((s) => !CONTROL_CHARS.test(s) && s.trim() === s, 'device names hold no control characters');
export const DeviceInfo = z.object({
  id: DeviceId,
  name: z.string(),
  createdAt: z.number(),
  lastSeen: z.number(),
  /** A connection of this device is open now. */
  online: z.boolean(),
  /** The device that asked. */
  current: z.boolean(),
});
export type DeviceInfo = z.infer<typeof DeviceInfo>;

/** A device's public identity, as published to the key directory. */
export const PublicIdentity = z.object({
  keyId: z.string().min(8).max(64).regex(/^[A-Za-z0-9_-]+$/),
  boxPublicKey: Base64.length(44),
  signPublicKey: Base64.length(44),
  /** Ed25519 signature by signPublicKey over "chandler-id-v1|keyId|boxPublicKey". */
  signature: Base64.length(88),
});
export type PublicIdentity = z.infer<typeof PublicIdentity>;

/**
 * The user's identity, sealed for the authority to keep (issue 13 §2): `sealed` is the identity's
 * secret keys under a random backup key (nonce 24 + secretbox of 73 bytes), `wrap` that backup key
 * under a key derived from OPAQUE's export key (nonce 24 + secretbox of 32 bytes). Only the
 * password's holder can open it; `keyId` names the identity inside (checked when it is opened).
 */
export const IdentityBackup = z
  .object({
    v: z.literal(1),
    keyId: PublicIdentity.shape.keyId,
    wrap: Base64.length(96),
    sealed: Base64.length(152),
  })
  .strict();
export type IdentityBackup = z.infer<typeof IdentityBackup>;
/** A backup key sealed under a new export key (a password change): `IdentityBackup['wrap']`. */
export const BackupWrap = IdentityBackup.shape.wrap;

/**
 * A signed head of the key log (shared/crypto/key-log.ts): the Merkle tree of every binding the
 * authority announced, `size` leaves, `root` its SHA-256 root, `at` when it reached that size.
 */
export const KeyLogHead = z.object({
  size: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  root: Base64.length(44),
  at: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  signature: Base64.length(88),
});
export type KeyLogHead = z.infer<typeof KeyLogHead>;
/** A Merkle proof: at most one hash per level of a tree of 2^64 leaves. */
const KeyLogPath = z.array(Base64.length(44)).max(LIMITS.maxKeyLogProof);
/** Where a binding is in the log: its leaf, when it was logged, the path to the root of `head`. */
export const KeyLogInclusion = z.object({
  index: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  at: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  path: KeyLogPath,
  head: KeyLogHead,
});
export type KeyLogInclusion = z.infer<typeof KeyLogInclusion>;

export const IceServer = z.object({
  urls: z.union([z.string(), z.array(z.string())]),
  username: z.string().optional(),
  credential: z.string().optional(),
});

export const SessionInfo = z.object({
  token: z.string(),
  user: UserInfo,
  iceServers: z.array(IceServer),
  serverVersion: z.string(),
});
export type SessionInfo = z.infer<typeof SessionInfo>;

export const DmPath = z.enum(['direct', 'relayed', 'stored']);
export type DmPath = z.infer<typeof DmPath>;

export const StoredDm = z.object({
  id: z.number().int(),
  from: z.string(),
  envelope: z.string(),
  ts: z.number(),
  /** True when it waited in the authority's store for the recipient to connect (else relayed live). */
  stored: z.boolean().optional(),
});

// ---------- requests and their results ----------

const Ok = z.object({ ok: z.literal(true) });

/** Where the next page of a list starts: the `next` of the previous page (opaque to clients). */
const ListCursor = z.string().min(1).max(LIMITS.maxListCursorChars).optional();
const NextCursor = z.string().nullable();

function req<P extends z.ZodRawShape, R extends z.ZodTypeAny>(params: P, result: R) {
  return { params: z.object(params).strict(), result };
}

/** Every request a client can make: its params and the result of a success. */
export const REQUESTS = {
  /**
   * Logging in and registering are OPAQUE exchanges (RFC 9807): the password never leaves the
   * client. Each takes two requests on one connection, a start and a finish; an exchange not
   * finished within LIMITS.authExchangeMs is dropped (a login then counts as a failed attempt).
   * The password policy's figures come first, so that a client checks a new password before
   * spending a registration attempt on it.
   */
  authPolicy: req({}, z.object({ minLength: z.number().int(), minScore: z.number().int(), ksf: OpaqueKsf })),
  /** A new account's first half: USERNAME_TAKEN / LOOKALIKE here, before any password work. */
  registerStart: req(
    { username: UsernameInput, registrationRequest: OpaqueMessage, clientVersion: ClientVersion },
    z.object({ registrationResponse: OpaqueMessage, ksf: OpaqueKsf }),
  ),
  /** Finishes registerStart, legacyLogin or resetStart: the record is stored and a session starts. */
  registerFinish: req({ registrationRecord: OpaqueMessage }, SessionInfo),
  /**
   * `legacy`: the account was made before OPAQUE and has no record yet; the client sends
   * legacyLogin instead, once (the one time its password crosses, over TLS).
   */
  loginStart: req(
    { username: UsernameInput, startLoginRequest: OpaqueMessage, clientVersion: ClientVersion },
    z.union([z.object({ loginResponse: OpaqueMessage, ksf: OpaqueKsf }), z.object({ legacy: z.literal(true) })]),
  ),
  loginFinish: req({ finishLoginRequest: OpaqueMessage }, SessionInfo),
  /** After loginStart answered legacy: the old password, checked against its scrypt hash, and the new record's first half. */
  legacyLogin: req(
    { password: Password, registrationRequest: OpaqueMessage },
    z.object({ registrationResponse: OpaqueMessage, ksf: OpaqueKsf }),
  ),
  /** An admin's one-time reset code, and the new record's first half (then registerFinish). */
  resetStart: req(
    { username: UsernameInput, code: ResetCode, registrationRequest: OpaqueMessage, clientVersion: ClientVersion },
    z.object({ registrationResponse: OpaqueMessage, ksf: OpaqueKsf }),
  ),
  /**
   * A signed-in user proves the password again (changePassword, deleteAccount finish it); with
   * `registrationRequest`, the first half of the new password's record as well.
   */
  reauthStart: req(
    { startLoginRequest: OpaqueMessage, registrationRequest: OpaqueMessage.optional() },
    z.object({ loginResponse: OpaqueMessage, ksf: OpaqueKsf, registrationResponse: OpaqueMessage.optional(), newKsf: OpaqueKsf.optional() }),
  ),
  resume: req({ token: Token, clientVersion: ClientVersion }, SessionInfo),
  /** Ends this session on all its connections; `everywhere`: every session of the user. */
  logout: req({ everywhere: z.boolean().optional() }, Ok),
  /** Finishes a reauthStart that had a registrationRequest: the old password's proof and the new record. */
  /**
   * `backupWrap`: the identity backup's key sealed under the new password's export key, for the
   * backup `backupKeyId` names (without it, a backup that the new password could not open is erased).
   */
  changePassword: req(
    {
      finishLoginRequest: OpaqueMessage,
      registrationRecord: OpaqueMessage,
      backupWrap: BackupWrap.optional(),
      backupKeyId: PublicIdentity.shape.keyId.optional(),
    },
    Ok,
  ),
  /** GDPR erasure of one's own account, after reauthStart (the export is GET /api/export, as it can be large). */
  deleteAccount: req({ finishLoginRequest: OpaqueMessage }, Ok),

  listRooms: req({}, z.object({ rooms: z.array(RoomInfo) })),
  requestAccess: req({ room: RoomName }, z.object({ access: Access })),
  postMessage: req(
    { room: RoomName, clientId: ClientId, text: MessageText },
    z.object({ seq: Seq, ts: z.number(), duplicate: z.boolean() }),
  ),
  fetchHistory: req(
    { room: RoomName, before: Seq.optional(), limit: PageLimit.optional() },
    z.object({ messages: z.array(RoomMessage), hasMore: z.boolean() }),
  ),
  /** Resume: the last sequence the client holds per room; answers what it missed, paged. */
  syncRooms: req(
    {
      cursors: z.record(RoomName, Seq).refine((c) => Object.keys(c).length <= LIMITS.maxSyncRooms),
      limit: PageLimit.optional(),
    },
    z.object({
      rooms: z.array(z.object({ room: z.string(), messages: z.array(RoomMessage), hasMore: z.boolean() })),
    }),
  ),
  /** Lists that grow with the number of accounts come a page at a time (LIMITS.listPageSize). */
  listMembers: req(
    { room: RoomName, after: ListCursor },
    z.object({ members: z.array(z.object({ username: z.string(), online: z.boolean(), admin: z.boolean() })), next: NextCursor }),
  ),

  listFriends: req({ after: ListCursor }, z.object({ friends: z.array(FriendInfo), next: NextCursor })),
  requestFriend: req({ username: UsernameInput }, z.object({ state: FriendState })),
  acceptFriend: req({ username: UsernameInput }, Ok),
  refuseFriend: req({ username: UsernameInput }, Ok),
  removeFriend: req({ username: UsernameInput }, Ok),

  listAccessRequests: req({ after: ListCursor }, z.object({ requests: z.array(AccessRequestInfo), next: NextCursor })),
  approveAccess: req({ username: UsernameInput, room: RoomName }, Ok),
  denyAccess: req({ username: UsernameInput, room: RoomName }, Ok),
  forceFriend: req({ a: UsernameInput, b: UsernameInput }, Ok),
  /** The admin console's actions, for an admin's client; each is written to the audit log. */
  adminListUsers: req({}, z.object({ users: z.array(AdminUserInfo) })),
  adminBan: req({ username: UsernameInput, reason: BanReason.optional() }, Ok),
  adminUnban: req({ username: UsernameInput }, Ok),
  adminKick: req({ username: UsernameInput, seconds: z.number().int().min(1).max(LIMITS.maxKickSeconds) }, Ok),
  adminGrant: req({ username: UsernameInput, room: RoomName }, Ok),
  adminRevoke: req({ username: UsernameInput, room: RoomName }, Ok),
  adminCreateRoom: req({ name: RoomName, policy: RoomPolicy }, Ok),

  publishKeys: req({ identity: PublicIdentity }, Ok),
  /** A friend's (or one's own) identity, with the proof that the key log holds it. */
  fetchKeys: req({ username: UsernameInput }, z.object({ identity: PublicIdentity, log: KeyLogInclusion })),
  /** The key log's signing key and its newest head (null while the log is empty). */
  keyLogHead: req({}, z.object({ publicKey: Base64.length(44), head: KeyLogHead.nullable() })),
  /** The proof that the tree of `to` leaves extends the tree of `from` (RFC 9162 consistency). */
  keyLogConsistency: req(
    { from: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER), to: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER) },
    z.object({ path: KeyLogPath }),
  ),
  /**
   * Every binding the log holds for the caller's own name, with proofs, a page at a time from
   * leaf `after` (exclusive): what each client checks against the keys it published itself.
   */
  keyLogMine: req(
    { after: z.number().int().min(-1).max(Number.MAX_SAFE_INTEGER).optional() },
    z.object({ entries: z.array(z.object({ identity: PublicIdentity, log: KeyLogInclusion })), next: z.number().int().nullable() }),
  ),
  /** The caller's sealed identity (null when none was kept): a new device opens it with the export key. */
  getIdentityBackup: req({}, z.object({ backup: IdentityBackup.nullable() })),
  /**
   * Keeps the caller's sealed identity, in place of the one named `replaces` (null: there was none).
   * BACKUP_CONFLICT when the kept one is another: two devices made one at once, the second takes the first's.
   */
  putIdentityBackup: req({ backup: IdentityBackup, replaces: PublicIdentity.shape.keyId.nullable() }, Ok),
  /**
   * The DM engine says which device this connection is (at each session start): stored envelopes
   * are kept until every device of the user has them, and the user sees and revokes devices.
   */
  helloDevice: req({ deviceId: DeviceId, name: DeviceName }, Ok),
  listDevices: req({}, z.object({ devices: z.array(DeviceInfo) })),
  /** Forgets one of the caller's other devices and ends its sessions (it must log in again with the password). */
  revokeDevice: req({ deviceId: DeviceId }, Ok),
  /**
   * A DM this device sent or received directly, sealed to the caller's own identity, for the
   * caller's other devices (kept until each has it). `stored`: false when there is no other device.
   */
  syncDm: req({ envelope: z.string().max(LIMITS.maxEnvelopeChars) }, z.object({ stored: z.boolean() })),
  sendSignal: req({ to: UsernameInput, data: z.unknown() }, Ok),
  relayDm: req(
    { to: UsernameInput, envelope: z.string().max(LIMITS.maxEnvelopeChars) },
    z.object({ path: z.enum(['relayed', 'stored']) }),
  ),
  /** Deletes delivered envelopes from the authority's store; the next batch of the backlog follows. */
  ackDms: req({ ids: z.array(z.number().int().nonnegative()).min(1).max(LIMITS.maxAckIds) }, Ok),
  /**
   * Sends the stored backlog again from its start: a client whose DM engine started after its
   * session did (and so may have missed the first batch) asks for it.
   */
  resendStoredDms: req({}, Ok),
} as const;

export type RequestType = keyof typeof REQUESTS;
export type Params<T extends RequestType> = z.infer<(typeof REQUESTS)[T]['params']>;
export type Result<T extends RequestType> = z.infer<(typeof REQUESTS)[T]['result']>;
export const REQUEST_TYPES = Object.keys(REQUESTS) as RequestType[];

/** Request ids are per connection, chosen by the client. */
export const RequestId = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

/** Only the envelope is parsed first; params are parsed by type (see parseRequest). */
export const RequestEnvelope = z.object({ id: RequestId, type: z.string().max(64) }).loose();

export type ParsedRequest =
  | { ok: true; id: number; type: RequestType; params: unknown }
  | { ok: false; id: number | null; reason: string };

/** Parses an already JSON-decoded frame from a client into a typed request. */
export function parseRequest(frame: unknown): ParsedRequest {
  const env = RequestEnvelope.safeParse(frame);
  if (!env.success) return { ok: false, id: null, reason: 'frame needs a numeric id and a type' };
  const { id, type, ...rest } = env.data;
  if (!Object.hasOwn(REQUESTS, type)) return { ok: false, id, reason: 'unknown request type' };
  const schema = REQUESTS[type as RequestType].params;
  const parsed = schema.safeParse(rest);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.join('.') : 'params';
    return { ok: false, id, reason: `${where}: ${issue?.message ?? 'invalid'}` };
  }
  return { ok: true, id, type: type as RequestType, params: parsed.data };
}

// ---------- replies ----------

export const ErrorBody = z.object({
  code: z.enum(ERROR_CODES),
  message: z.string(),
  /** For KICKED, TOO_MANY_ATTEMPTS, RATE_LIMITED: when it may be tried again (ms since epoch). */
  until: z.number().optional(),
  /** For WEAK_PASSWORD: which rule the password broke. */
  reason: z.enum(PASSWORD_WEAKNESSES).optional(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

export const ReplyFrame = z.union([
  z.object({ re: RequestId, ok: z.literal(true), result: z.unknown() }),
  z.object({ re: RequestId.nullable(), ok: z.literal(false), error: ErrorBody }),
]);

// ---------- events ----------

export const EVENTS = {
  messagePosted: RoomMessage,
  accessRequested: AccessRequestInfo,
  accessDecided: z.object({ room: z.string(), granted: z.boolean(), by: z.string() }),
  accessGranted: z.object({ room: z.string() }),
  accessRevoked: z.object({ room: z.string() }),
  friendRequested: z.object({ username: z.string() }),
  friendsChanged: z.object({ username: z.string(), state: z.union([FriendState, z.literal('none')]), online: z.boolean() }),
  presenceChanged: z.object({ username: z.string(), online: z.boolean() }),
  keysChanged: z.object({ username: z.string(), identity: PublicIdentity }),
  /** A device of mine connected, was added or revoked (to my other connections). */
  devicesChanged: z.object({}),
  signalReceived: z.object({ from: z.string(), data: z.unknown() }),
  dmReceived: StoredDm,
  roomCreated: z.object({ room: z.string(), policy: RoomPolicy }),
  adminChanged: z.object({ admin: z.boolean() }),
  notice: z.object({ text: z.string() }),
} as const;

export type EventName = keyof typeof EVENTS;
export type EventData<E extends EventName> = z.infer<(typeof EVENTS)[E]>;
export type ServerEvent = { [E in EventName]: { ev: E } & EventData<E> }[EventName];

export const EventEnvelope = z.object({ ev: z.string() }).loose();

export type ParsedServerFrame =
  | { kind: 'reply'; frame: z.infer<typeof ReplyFrame> }
  | { kind: 'event'; event: ServerEvent }
  | { kind: 'invalid'; reason: string };

/** Parses a frame from the authority (the client side of the boundary). */
export function parseServerFrame(frame: unknown): ParsedServerFrame {
  const reply = ReplyFrame.safeParse(frame);
  if (reply.success) return { kind: 'reply', frame: reply.data };
  const env = EventEnvelope.safeParse(frame);
  if (!env.success || !Object.hasOwn(EVENTS, env.data.ev)) return { kind: 'invalid', reason: 'unknown frame' };
  const name = env.data.ev as EventName;
  const data = EVENTS[name].safeParse(frame);
  if (!data.success) return { kind: 'invalid', reason: `bad ${name} event` };
  return { kind: 'event', event: { ev: name, ...(data.data as object) } as ServerEvent };
}
