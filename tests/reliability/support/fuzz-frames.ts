/**
 * fast-check arbitraries for hostile client frames: every request type of the protocol, its
 * params mostly near-valid (so that frames reach the handlers) and often wrong — wrong types,
 * lengths on either side of each limit, unicode edge cases, missing and extra fields — and the
 * frame itself sometimes malformed, truncated, binary, oversized, deeply nested or not UTF-8.
 *
 * Field generators are chosen by the schema (shared/protocol/messages.ts REQUESTS), refined by
 * field name where the name carries meaning (a username, a room, a token, an OPAQUE message), so
 * a request type added to the protocol is fuzzed without touching this file. OPAQUE's two-request
 * exchanges also come as sequences (exchangeArb): a real start, then a finish hostile or replayed.
 */
import fc from 'fast-check';
import type { z } from 'zod';
import { LIMITS, REQUEST_TYPES, REQUESTS, type IdentityBackup, type PublicIdentity, type RequestType } from '../../../shared/protocol/index.js';

/** Put into fields that must never reach the logs (texts, passwords, tokens, envelopes, signals, OPAQUE messages). */
export const MARKER = 'FZ9MARK';

/** What the fuzzer can aim at: real names, rooms, tokens, keys (refreshed between runs). */
export interface FuzzWorld {
  usernames: string[];
  /** The default room first. */
  rooms: string[];
  /** The accounts' real password first. */
  passwords: string[];
  tokens: string[];
  identity: PublicIdentity;
  envelope: string;
  /** The user's identity sealed as putIdentityBackup takes it (under an export key nobody has). */
  backup: IdentityBackup;
  /** Device ids: the user's own (helloDevice), and one no device has. */
  deviceIds: string[];
  /**
   * Real OPAQUE messages (base64url): the starts reach the authority's worker steps; the finish
   * and the record were used once already, so each is a replay.
   */
  opaque: Record<OpaqueField, string>;
}

export const OPAQUE_FIELDS = ['startLoginRequest', 'registrationRequest', 'finishLoginRequest', 'registrationRecord'] as const;
export type OpaqueField = (typeof OPAQUE_FIELDS)[number];
const isOpaqueField = (field: string): field is OpaqueField => (OPAQUE_FIELDS as readonly string[]).includes(field);

/** One frame as generated; ids are given at send time unless the frame carries its own. */
export type FrameSpec =
  | {
      kind: 'request';
      type: string;
      params: Record<string, unknown>;
      id: { auto: true } | { raw: unknown } | { omit: true };
      extra?: [string, unknown];
      /** The sender waits for this reply before the next frame (the first half of an exchange). */
      awaitReply?: boolean;
    }
  | { kind: 'text'; label: string; text: string }
  | { kind: 'bytes'; label: string; bytes: Uint8Array; binary: boolean };

export interface Built {
  data: string | Buffer;
  binary: boolean;
  /** The request id a reply will carry (null: none expected to match, e.g. malformed). */
  id: number | null;
  type: string | null;
  label: string;
  /** Send nothing more on the connection until this frame is answered. */
  awaitReply: boolean;
}

const sized = (label: string, text: string) => (Buffer.byteLength(text) > LIMITS.maxFrameBytes ? 'oversized' : label);

/** Frames the server must close the connection for (no reply expected). */
export const CLOSING_LABELS = new Set(['oversized', 'invalid-utf8']);

const PIECES = [
  '\uD800', // lone high surrogate
  '\uDFFF', // lone low surrogate
  '\uDBFF\uDFFF',
  '\u200F', // right-to-left mark
  '\u202E', // right-to-left override
  '\u2066',
  '\u0000',
  '\u0007',
  '\u001B[31m',
  '\u007F',
  '\u0085',
  '\u00A0',
  'e\u0301', // combining acute (NFD)
  '\u0301',
  'Z\u0351\u0352\u0353\u0354\u0355\u0356\u0357',
  '\u{1F468}\u200D\u{1F469}\u200D\u{1F467}', // family (ZWJ sequence)
  '\u{1F3F3}\uFE0F\u200D\u{1F308}',
  '\u{1F600}',
  '\u200B',
  '\u200D',
  '\uFEFF',
  '\u2028',
  '\u2029',
  '\r\n',
  '\t',
  '\n',
  ' ',
  'é',
  '\uFB01',
  'İ',
  'ß',
  '\uFFFD',
  '\uFFFF',
  '\u{10FFFF}',
  '%s%n',
  '${x}',
  '<script>alert(1)</script>',
  "'; DROP TABLE users;--",
  '../../etc/passwd',
  '\\',
  '"',
  '__proto__',
  'constructor',
];

/** Unicode-hostile text of a few pieces. */
const unicodeText = (maxPieces = 12) =>
  fc
    .array(fc.oneof(fc.constantFrom(...PIECES), fc.string({ unit: 'binary', maxLength: 6 }), fc.string({ maxLength: 6 })), {
      maxLength: maxPieces,
    })
    .map((xs) => xs.join(''));

/** Strings just under, at and over a limit, in units of different widths. */
const UNITS = ['a', 'é', 'e\u0301', '\u{1F600}', '\u0000', ' '];
const around = (limit: number) =>
  fc.tuple(fc.constantFrom(limit - 1, limit, limit + 1), fc.constantFrom(...UNITS)).map(([n, unit]) => unit.repeat(Math.max(0, n)));

/** Nesting deeper than a recursive serialiser survives; build() writes it out by hand. */
const deep = (n: number) => `\u0001DEEP:${n}\u0001`;
const DEEP_PLACEHOLDER = /"\\u0001DEEP:(\d+)\\u0001"/g;

/** Values of the wrong type for anything. */
const wrongType = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double({ noNaN: true }),
  fc.constant([]),
  fc.constant({}),
  fc.array(fc.oneof(fc.integer(), fc.string({ maxLength: 4 })), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 6 }), fc.integer(), { maxKeys: 3 }),
  fc.constant({ __proto__: { admin: true } }),
  fc.constant('1e999'),
);

const numberish = fc.oneof(
  fc.constantFrom(-1, 0, 1, 99, 100, 101, 2 ** 31, 2 ** 53 - 1, 2 ** 53, 1e308, 0.5, -0.5, LIMITS.maxKickSeconds, LIMITS.maxKickSeconds + 1),
  fc.integer({ min: 0, max: 200 }),
  fc.integer(),
  fc.double({ noNaN: true }),
  fc.constantFrom('5', '0x10', ''),
);

const validName = fc.stringMatching(/^[A-Za-z0-9._-]{3,32}$/);

/**
 * Base64url of n random bytes, its first characters the marker (base64url as well: OPAQUE
 * messages are never logged either). The length in bytes is exact.
 */
const randomOpaque = (bytes: number) =>
  fc
    .uint8Array({ minLength: bytes, maxLength: bytes })
    .map((b) => Buffer.from(b).toString('base64url'))
    .map((x) => (x.length >= MARKER.length ? MARKER + x.slice(MARKER.length) : x));

/**
 * An OPAQUE message field: the real one (a start that reaches the worker, or a replayed finish),
 * random bytes of its length (well-formed, meaningless), other lengths, not base64url, too long.
 */
function opaqueArb(real: string): fc.Arbitrary<unknown> {
  const bytes = Buffer.from(real, 'base64url').length;
  const standardBase64 = Buffer.from(real, 'base64url').toString('base64');
  return fc.oneof(
    { weight: 6, arbitrary: fc.constant(real) },
    { weight: 5, arbitrary: randomOpaque(bytes) },
    { weight: 2, arbitrary: fc.constantFrom(1, 31, 32, 33, 63, 64, 65, 95, 96, 97, 191, 192, 193, 320, bytes - 1, bytes + 1).chain(randomOpaque) },
    { weight: 1, arbitrary: around(LIMITS.maxOpaqueMessageChars).map((x) => MARKER + 'A'.repeat(Math.max(0, x.length - MARKER.length))) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        standardBase64, // padded, and + / where base64url has - _
        `${MARKER}${real.slice(MARKER.length)}=`,
        `${MARKER}${real.slice(MARKER.length, -1)}!`,
        `${MARKER} ${real}`,
        `${MARKER}${real}\u0000`,
        `${MARKER}é${real}`,
        '',
      ),
    },
    { weight: 1, arbitrary: wrongType },
  );
}

/** Mostly `likely`, sometimes anything else. */
function mostly<T>(likely: fc.Arbitrary<T>, ...others: fc.Arbitrary<unknown>[]): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 4 * others.length, arbitrary: likely as fc.Arbitrary<unknown> }, ...others.map((a) => ({ weight: 1, arbitrary: a })));
}

type Def = { type: string; [k: string]: unknown };
const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

function checkValue(s: z.ZodType, name: string): number | undefined {
  const checks = (defOf(s).checks as { _zod: { def: Record<string, unknown> } }[] | undefined) ?? [];
  for (const c of checks) {
    const d = c._zod.def;
    if (d.check === name) return (d.maximum ?? d.minimum ?? d.length) as number;
  }
  return undefined;
}

/** By the schema alone: for fields no name rule covers. */
function bySchema(s: z.ZodType, w: FuzzWorld, depth = 0): fc.Arbitrary<unknown> {
  const d = defOf(s);
  switch (d.type) {
    case 'optional':
      return bySchema(d.innerType as z.ZodType, w, depth);
    case 'string': {
      const max = checkValue(s, 'max_length') ?? checkValue(s, 'length_equals');
      return mostly(fc.string({ maxLength: 24 }), unicodeText(), max === undefined ? fc.string() : around(max), wrongType);
    }
    case 'number':
      return numberish;
    case 'boolean':
      return mostly(fc.boolean(), wrongType);
    case 'enum': {
      const values = Object.values(d.entries as Record<string, string>);
      return mostly(fc.constantFrom(...values), fc.constantFrom(...values.map((v) => v.toUpperCase()), ''), unicodeText(), wrongType);
    }
    case 'literal':
      return mostly(fc.constantFrom(...(d.values as unknown[])), wrongType);
    case 'array':
      return mostly(fc.array(bySchema(d.element as z.ZodType, w, depth + 1), { maxLength: 8 }), wrongType);
    case 'record':
      return mostly(fc.dictionary(fc.oneof(fc.constantFrom(...w.rooms), unicodeText(3)), numberish, { maxKeys: 6 }), wrongType);
    case 'object': {
      if (depth > 3) return wrongType;
      const shape = d.shape as Record<string, z.ZodType>;
      const fields = Object.fromEntries(Object.entries(shape).map(([k, v]) => [k, fieldArb(k, v, w, depth + 1)]));
      return mostly(fc.record(fields, { requiredKeys: [] }), wrongType);
    }
    default:
      return fc.oneof(fc.jsonValue({ maxDepth: 3 }), wrongType);
  }
}

/** By field name first: names, rooms, secrets and ids are aimed at real ones often. */
function fieldArb(field: string, s: z.ZodType, w: FuzzWorld, depth = 0): fc.Arbitrary<unknown> {
  const variant = (x: string) =>
    fc.oneof(
      { weight: 6, arbitrary: fc.constant(x) },
      { weight: 1, arbitrary: fc.constantFrom(x.toUpperCase(), x.normalize('NFD'), ` ${x}`, `${x}\u0000`, `${x}\u200F`) },
    );
  const realName = fc.constantFrom(...w.usernames).chain(variant);
  // The default room most often: every user is a member, so posts get through and are stored.
  const room = fc.oneof({ weight: 1, arbitrary: fc.constant(w.rooms[0]!) }, { weight: 1, arbitrary: fc.constantFrom(...w.rooms) }).chain(variant);
  const inRange = (min: number, max: number) =>
    fc.oneof({ weight: 4, arbitrary: fc.integer({ min, max }) }, { weight: 1, arbitrary: fc.constantFrom(min - 1, max + 1) }, { weight: 1, arbitrary: numberish });
  const secret = (limit: number) =>
    mostly(
      fc.constantFrom(...w.passwords),
      unicodeText().map((x) => `${MARKER}${x}!password`),
      around(limit).map((x) => `${MARKER}${x}`),
      wrongType,
    );
  // keyLogConsistency's sizes (a `to` that is not a username): small ones, which a fuzz world's log has.
  // Mostly 1 → 1, which every log with a binding proves (a range past the log is BAD_REQUEST, a gate code).
  if ((field === 'from' || field === 'to') && defOf(s).type === 'number') {
    return fc.oneof({ weight: 3, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: inRange(1, 8) });
  }
  switch (field) {
    case 'username':
    case 'to':
    case 'a':
    case 'b':
      return fc.oneof(
        { weight: 5, arbitrary: realName },
        { weight: 2, arbitrary: validName },
        { weight: 1, arbitrary: around(LIMITS.usernameMax) },
        { weight: 1, arbitrary: unicodeText() },
        { weight: 1, arbitrary: wrongType },
      );
    case 'room':
    case 'name':
      return fc.oneof(
        { weight: 14, arbitrary: room },
        { weight: 2, arbitrary: unicodeText(4) },
        { weight: 1, arbitrary: around(LIMITS.roomNameMax) },
        { weight: 1, arbitrary: fc.constantFrom('', ' ', 'Général ', 'general', 'GÉNÉRAL') },
        { weight: 1, arbitrary: wrongType },
      );
    case 'password':
      return secret(LIMITS.passwordMax);
    case 'code':
      return secret(LIMITS.maxResetCodeChars);
    case 'token':
      return mostly(
        fc.constantFrom(...w.tokens),
        fc.stringMatching(/^[A-Za-z0-9_-]{43}$/),
        around(LIMITS.maxTokenChars).map((x) => `${MARKER}${x}`),
        fc.constantFrom('x'.repeat(15), 'x'.repeat(16), `${MARKER}${'y'.repeat(40)}`),
        wrongType,
      );
    case 'clientId':
      return fc.oneof(
        { weight: 16, arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{8,64}$/) },
        { weight: 3, arbitrary: fc.constantFrom('fuzz-dup-00000001', 'fuzz-dup-00000002') }, // resends
        { weight: 1, arbitrary: fc.constantFrom('a'.repeat(7), 'a'.repeat(8), 'a'.repeat(64), 'a'.repeat(65), 'bad id!!', '________') },
        { weight: 1, arbitrary: unicodeText(4) },
        { weight: 1, arbitrary: wrongType },
      );
    case 'before':
      return inRange(0, 2000);
    case 'limit':
      return inRange(1, LIMITS.maxPageSize);
    case 'seconds':
      return inRange(1, LIMITS.maxKickSeconds);
    case 'text':
      return fc.oneof(
        { weight: 6, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).map((x) => `${MARKER} ${x}`) },
        { weight: 4, arbitrary: unicodeText().map((x) => `${MARKER} ${x}`) },
        { weight: 2, arbitrary: around(LIMITS.maxMessageChars) },
        { weight: 1, arbitrary: fc.constantFrom('', '   ', '\n', 'ok\u0000', 'e\u0301'.repeat(LIMITS.maxMessageChars), '\u{1F600}'.repeat(LIMITS.maxMessageChars + 1)) },
        { weight: 1, arbitrary: around(LIMITS.maxMessageChars * 4) },
        { weight: 1, arbitrary: wrongType },
      );
    case 'identity':
      return mostly(
        fc.constant(w.identity),
        fc.constantFrom('keyId', 'boxPublicKey', 'signPublicKey', 'signature').chain((k) =>
          fc.oneof(unicodeText(3), fc.stringMatching(/^[A-Za-z0-9+/]{43}=$/), wrongType).map((v) => ({ ...w.identity, [k]: v })),
        ),
        bySchema(s, w, depth),
      );
    case 'backup':
      return mostly(
        fc.constant(w.backup),
        fc.constantFrom('keyId', 'wrap', 'sealed', 'v').chain((k) =>
          fc.oneof(unicodeText(3), fc.stringMatching(/^[A-Za-z0-9+/]{94}==$/), wrongType).map((v) => ({ ...w.backup, [k]: v })),
        ),
        bySchema(s, w, depth),
      );
    case 'replaces':
      return mostly(fc.constantFrom(null, w.backup.keyId, w.identity.keyId), unicodeText(3), wrongType);
    case 'deviceId':
      return mostly(
        fc.constantFrom(...w.deviceIds),
        fc.stringMatching(/^[A-Za-z0-9_-]{16,64}$/),
        fc.constantFrom('a'.repeat(15), 'a'.repeat(65), 'bad device id!!!'),
        unicodeText(3),
        wrongType,
      );
    case 'envelope':
      return fc.oneof(
        { weight: 3, arbitrary: fc.constant(w.envelope) },
        { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify({ v: 1, note: MARKER, x: v })) },
        { weight: 1, arbitrary: around(LIMITS.maxEnvelopeChars).map((x) => `${MARKER}${x}`) },
        { weight: 1, arbitrary: unicodeText().map((x) => `${MARKER}${x}`) },
        { weight: 1, arbitrary: wrongType },
      );
    case 'data':
      return fc.oneof(
        { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => ({ type: 'offer', sdp: `v=0 ${MARKER}`, v })) },
        { weight: 1, arbitrary: fc.constantFrom(2000, 20_000).map(deep) },
        { weight: 1, arbitrary: fc.constant({ blob: MARKER + 'x'.repeat(LIMITS.maxSignalBytes) }) },
        { weight: 1, arbitrary: wrongType },
      );
    case 'ids':
      return mostly(
        fc.array(fc.nat(10_000), { maxLength: 20 }),
        fc.constant(Array.from({ length: LIMITS.maxAckIds + 1 }, (_, i) => i)),
        fc.array(fc.oneof(fc.integer(), fc.double(), fc.string({ maxLength: 3 })), { maxLength: 5 }),
        wrongType,
      );
    case 'cursors':
      return mostly(
        fc.dictionary(fc.oneof(fc.constantFrom(...w.rooms), unicodeText(3)), fc.oneof(fc.nat(500), numberish), { maxKeys: 6 }),
        fc.constant(Object.fromEntries(Array.from({ length: LIMITS.maxSyncRooms + 1 }, (_, i) => [`room${i}`, 0]))),
        fc.constant(JSON.parse('{"__proto__": 1, "constructor": 2, "Général": 0}') as unknown),
        wrongType,
      );
    case 'reason':
      return mostly(unicodeText(), around(LIMITS.maxBanReasonChars), wrongType);
    default:
      return isOpaqueField(field) ? opaqueArb(w.opaque[field]) : bySchema(s, w, depth);
  }
}

function paramsArb(type: RequestType, w: FuzzWorld): fc.Arbitrary<Record<string, unknown>> {
  const shape = defOf(REQUESTS[type].params).shape as Record<string, z.ZodType>;
  const fields = Object.fromEntries(Object.entries(shape).map(([k, v]) => [k, fieldArb(k, v, w)]));
  const required = Object.entries(shape)
    .filter(([, v]) => defOf(v).type !== 'optional')
    .map(([k]) => k);
  return fc.oneof(
    { weight: 9, arbitrary: fc.record(fields, { requiredKeys: required }) },
    { weight: 1, arbitrary: fc.record(fields, { requiredKeys: [] }) },
  ) as fc.Arbitrary<Record<string, unknown>>;
}

const badId = fc.oneof(
  fc.constantFrom(-1, 1.5, 2 ** 53, 1e308, '7', null, true, [], {}),
  fc.string({ maxLength: 5 }),
);
const badType = fc.oneof(
  // login and register: the requests of the login before OPAQUE, gone from the protocol.
  fc.constantFrom('login', 'register', 'LoginStart', 'LOGINFINISH', '', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'x'.repeat(65)),
  unicodeText(3),
  wrongType,
);
const extraField = fc.tuple(fc.constantFrom('__proto__', 'constructor', 'admin', 'isAdmin', 'user', 'extra', 'id2'), fc.jsonValue({ maxDepth: 2 }));

/** One frame for any request type. */
export function frameArb(w: FuzzWorld, types: readonly RequestType[] = REQUEST_TYPES): fc.Arbitrary<FrameSpec> {
  const request = fc.constantFrom(...types).chain((type) =>
    fc.record({
      type: fc.constant<string>(type),
      params: paramsArb(type, w),
      mode: fc.oneof(
        { weight: 85, arbitrary: fc.constant('valid' as const) },
        { weight: 5, arbitrary: fc.constant('extra' as const) },
        { weight: 4, arbitrary: fc.constant('bad-id' as const) },
        { weight: 2, arbitrary: fc.constant('no-id' as const) },
        { weight: 4, arbitrary: fc.constant('bad-type' as const) },
      ),
      extra: extraField,
      rawId: badId,
      rawType: badType,
    }).map(({ type, params, mode, extra, rawId, rawType }): FrameSpec => ({
      kind: 'request',
      type: mode === 'bad-type' ? (rawType as string) : type,
      params,
      id: mode === 'bad-id' ? { raw: rawId } : mode === 'no-id' ? { omit: true } : { auto: true },
      extra: mode === 'extra' ? extra : undefined,
    })),
  );
  return fc.oneof(
    { weight: 900, arbitrary: request },
    // Malformed at the frame level.
    { weight: 25, arbitrary: fc.tuple(request, fc.nat()).map(([r, cut]): FrameSpec => {
      const text = build(r, () => 1).data as string;
      return { kind: 'text', label: 'truncated', text: text.slice(0, cut % Math.max(1, text.length)) };
    }) },
    { weight: 15, arbitrary: fc.oneof(fc.string({ maxLength: 40 }), unicodeText()).map((text): FrameSpec => ({ kind: 'text', label: 'garbage', text })) },
    { weight: 15, arbitrary: fc.constantFrom('[]', '1', 'null', '"loginStart"', 'true', '{}', '{"id":1}', '{"type":"loginStart"}', '[{"id":1,"type":"loginStart"}]', '{"id":1,"type":"loginStart","id":"x"}').map((text): FrameSpec => ({ kind: 'text', label: 'not-a-request', text })) },
    { weight: 8, arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes): FrameSpec => ({ kind: 'bytes', label: 'binary', bytes, binary: true })) },
    { weight: 6, arbitrary: fc.constantFrom(1000, 20_000).map((n): FrameSpec => ({ kind: 'text', label: 'deep', text: `{"id":1,"type":"listRooms","x":${'['.repeat(n)}${']'.repeat(n)}}` })) },
    { weight: 6, arbitrary: fc.constantFrom(LIMITS.maxFrameBytes - 1, LIMITS.maxFrameBytes).map((n): FrameSpec => ({ kind: 'text', label: 'near-limit', text: exactBytes(n) })) },
    // These two end the connection (FRAME_TOO_LARGE, then ws's 1007): rare, so the rest runs.
    { weight: 2, arbitrary: fc.constantFrom(LIMITS.maxFrameBytes + 1, LIMITS.maxFrameBytes * 2, LIMITS.maxFrameBytes * 5).map((n): FrameSpec => ({ kind: 'text', label: 'oversized', text: JSON.stringify({ id: 1, type: 'legacyLogin', password: 'y'.repeat(n), registrationRequest: 'z' }) })) },
    { weight: 2, arbitrary: fc.constantFrom([0xc3, 0x28], [0xed, 0xa0, 0x80], [0xff, 0xfe, 0x7b]).map((b): FrameSpec => ({ kind: 'bytes', label: 'invalid-utf8', bytes: Uint8Array.from([0x7b, ...b, 0x7d]), binary: false })) },
  );
}

/** A request as a client frames it (an id of its own). */
function request(type: RequestType, params: Record<string, unknown>, awaitReply = false): FrameSpec {
  return { kind: 'request', type, params, id: { auto: true }, awaitReply };
}

/**
 * One OPAQUE exchange: a start with a real message, answered before anything more is sent (a
 * finish sent meanwhile would only find the connection busy), then its finish, hostile or
 * replayed from an exchange already done; a login may send a second finish, which finds none
 * under way. Finishes with no start at all come from frameArb.
 */
export function exchangeArb(w: FuzzWorld): fc.Arbitrary<FrameSpec[]> {
  const { startLoginRequest, registrationRequest } = w.opaque;
  const finish = (field: OpaqueField) => opaqueArb(w.opaque[field]);
  const login = fc
    .tuple(fc.constantFrom(...w.usernames), finish('finishLoginRequest'), fc.option(finish('finishLoginRequest'), { nil: undefined }))
    .map(([username, proof, again]) => [
      request('loginStart', { username, startLoginRequest }, true),
      request('loginFinish', { finishLoginRequest: proof }),
      ...(again === undefined ? [] : [request('loginFinish', { finishLoginRequest: again })]),
    ]);
  const register = fc
    .tuple(fc.stringMatching(/^fzr[a-z0-9]{6,12}$/), finish('registrationRecord'))
    .map(([username, record]) => [
      request('registerStart', { username, registrationRequest }, true),
      request('registerFinish', { registrationRecord: record }),
    ]);
  // As a signed-in user: the proof can never be right (its password's finish is a replay or noise).
  const reauth = fc
    .tuple(fc.boolean(), finish('finishLoginRequest'), finish('registrationRecord'))
    .map(([change, proof, record]) =>
      change
        ? [
            request('reauthStart', { startLoginRequest, registrationRequest }, true),
            request('changePassword', { finishLoginRequest: proof, registrationRecord: record }),
          ]
        : [request('reauthStart', { startLoginRequest }, true), request('deleteAccount', { finishLoginRequest: proof })],
    );
  return fc.oneof(login, register, reauth);
}

/** What a connection sends next: one frame, or now and then a whole OPAQUE exchange. */
export function framesArb(w: FuzzWorld): fc.Arbitrary<FrameSpec[]> {
  return fc.oneof({ weight: 12, arbitrary: frameArb(w).map((f) => [f]) }, { weight: 1, arbitrary: exchangeArb(w) });
}

/** A well-formed request frame of exactly n bytes (its text field is padded). */
function exactBytes(n: number): string {
  const frame = (pad: number) => JSON.stringify({ id: 1, type: 'postMessage', room: 'Général', clientId: 'near-limit-0001', text: 'x'.repeat(pad) });
  const overhead = Buffer.byteLength(frame(0));
  return frame(n - overhead);
}

/** Serialises a frame; auto ids come from `nextId`. A frame past the size limit is labelled so. */
export function build(f: FrameSpec, nextId: () => number): Built {
  if (f.kind === 'text') return { data: f.text, binary: false, id: null, type: null, label: sized(f.label, f.text), awaitReply: false };
  if (f.kind === 'bytes') return { data: Buffer.from(f.bytes), binary: f.binary, id: null, type: null, label: f.label, awaitReply: false };
  const body: Record<string, unknown> = {};
  let id: number | null = null;
  if ('auto' in f.id) body.id = id = nextId();
  else if ('raw' in f.id) body.id = f.id.raw;
  body.type = f.type;
  Object.assign(body, f.params);
  if (f.extra) Object.defineProperty(body, f.extra[0], { value: f.extra[1], enumerable: true, configurable: true, writable: true });
  const validType = typeof f.type === 'string' && Object.hasOwn(REQUESTS, f.type);
  const data = JSON.stringify(body).replace(DEEP_PLACEHOLDER, (_, n: string) => '['.repeat(Number(n)) + ']'.repeat(Number(n)));
  const label = f.extra ? 'extra-field' : 'raw' in f.id ? 'bad-id' : 'omit' in f.id ? 'no-id' : validType ? 'request' : 'bad-type';
  return { data, binary: false, id, type: validType ? f.type : null, label: sized(label, data), awaitReply: f.awaitReply === true && id !== null };
}
