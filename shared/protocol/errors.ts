/**
 * The one error model of CHandler. Stable error codes carried by typed replies (ERROR_CODES),
 * the client core's own codes beside them (LOCAL_ERROR_CODES: they never cross the wire), and
 * the Outcome every expected failure travels in, on both sides. Clients translate codes for
 * people; never rename one (add a new code instead).
 */
export const ERROR_CODES = [
  'BAD_REQUEST', // the frame did not match any message schema
  'NOT_AUTHENTICATED', // this request needs a logged-in session
  'ALREADY_AUTHENTICATED',
  'UNKNOWN_USER',
  'WRONG_PASSWORD',
  'WRONG_CREDENTIALS', // login: the name or the password is wrong (one answer, so names are not enumerable)
  'INVALID_USERNAME',
  'USERNAME_TAKEN',
  'USERNAME_LOOKALIKE', // the name looks like an existing one (aIice, a1ice beside alice)
  'WEAK_PASSWORD',
  'TOO_MANY_ATTEMPTS',
  'BANNED',
  'KICKED',
  'PASSWORD_CHANGE_REQUIRED',
  'INVALID_SESSION',
  'UNKNOWN_ROOM',
  'NOT_A_MEMBER',
  'ALREADY_MEMBER',
  'ROOM_CLOSED',
  'NO_SUCH_REQUEST',
  'TEXT_TOO_LONG',
  'INVALID_TEXT',
  'INVALID_NAME',
  'NOT_ADMIN',
  'ALREADY_FRIENDS',
  'NOT_FRIENDS',
  'SELF_FRIEND',
  'NO_FRIEND_REQUEST',
  'ROOM_EXISTS',
  'RATE_LIMITED', // a rate limit: `until` says when to try again
  'BUSY', // the same work is under way, or the server's queue for it is full: `until` says when to retry
  'DUPLICATE_ROOM', // one request names the same room twice (names match without regard to case)
  'NO_KEYS',
  'BACKUP_CONFLICT', // another device kept a different identity backup meanwhile: read it again
  'UNKNOWN_DEVICE', // no device of this user has that id
  'TOO_MANY_DEVICES', // the user has LIMITS.maxDevices devices already: revoke one
  'INVALID_KEYS',
  'SIGNAL_TOO_LARGE',
  'ENVELOPE_TOO_LARGE',
  'STORE_FULL',
  'PEER_OFFLINE',
  'SHUTTING_DOWN',
  'CANNOT_TARGET_SELF', // an admin may not ban or kick their own account
  'INVALID_AUTH_MESSAGE', // an OPAQUE message (login, registration) that does not parse or does not verify
  'NO_AUTH_EXCHANGE', // the second half of a login or registration with no first half under way on this connection
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** Plain-English default text; user interfaces translate by code. */
export const ERROR_TEXT: Record<ErrorCode, string> = {
  BAD_REQUEST: 'the request is malformed',
  NOT_AUTHENTICATED: 'log in first',
  ALREADY_AUTHENTICATED: 'this connection is already logged in',
  UNKNOWN_USER: 'no user has that name',
  WRONG_PASSWORD: 'wrong password',
  WRONG_CREDENTIALS: 'wrong username or password',
  INVALID_USERNAME: 'usernames are 3 to 32 characters: letters, digits, dot, underscore or hyphen',
  USERNAME_TAKEN: 'that username is taken',
  USERNAME_LOOKALIKE: 'that username looks too much like an existing one (l, I and 1; O and 0; rn and m)',
  WEAK_PASSWORD:
    'passwords need at least 12 characters including one that is not a letter or digit, and must not be a common password, a trivial pattern or contain the username',
  TOO_MANY_ATTEMPTS: 'too many attempts, try again later',
  BANNED: 'this account or address is banned',
  KICKED: 'this account is suspended for a while',
  PASSWORD_CHANGE_REQUIRED: 'choose a new password before going on',
  INVALID_SESSION: 'the session has expired, log in again',
  UNKNOWN_ROOM: 'no room has that name',
  NOT_A_MEMBER: 'you are not a member of that room',
  ALREADY_MEMBER: 'already a member of that room',
  ROOM_CLOSED: 'that room is by invitation only',
  NO_SUCH_REQUEST: 'there is no such pending request',
  TEXT_TOO_LONG: 'the message is too long',
  INVALID_TEXT: 'the message is empty or holds forbidden characters',
  INVALID_NAME: 'the name is empty, too long or holds forbidden characters',
  NOT_ADMIN: 'only administrators can do that',
  ALREADY_FRIENDS: 'already friends',
  NOT_FRIENDS: 'you are not friends',
  SELF_FRIEND: 'you cannot befriend yourself',
  NO_FRIEND_REQUEST: 'there is no such friend request',
  ROOM_EXISTS: 'a room with that name exists',
  RATE_LIMITED: 'slow down',
  BUSY: 'the server is busy with this kind of request, try again in a moment',
  DUPLICATE_ROOM: 'the request names the same room twice',
  NO_KEYS: 'that user has not published encryption keys yet',
  BACKUP_CONFLICT: 'another of your devices saved its keys at the same moment: try again',
  UNKNOWN_DEVICE: 'none of your devices has that id',
  TOO_MANY_DEVICES: 'you have too many devices: revoke one you no longer use',
  INVALID_KEYS: 'the keys are malformed',
  SIGNAL_TOO_LARGE: 'the signaling message is too large',
  ENVELOPE_TOO_LARGE: 'the encrypted message is too large',
  STORE_FULL: 'the recipient has too many waiting messages',
  PEER_OFFLINE: 'that friend is not connected',
  SHUTTING_DOWN: 'the server is shutting down',
  CANNOT_TARGET_SELF: 'you cannot do that to your own account',
  INVALID_AUTH_MESSAGE: 'the login or registration message is malformed',
  NO_AUTH_EXCHANGE: 'no login or registration is under way on this connection (it expired, or was finished): start again',
  INTERNAL: 'internal error',
};

/** Failures the client core finds itself (no reply, a closed engine): never sent by the authority. */
export const LOCAL_ERROR_CODES = [
  'DISCONNECTED', // not connected to the authority
  'TIMEOUT', // the authority did not answer in time
  'CERT_MISMATCH', // the server's certificate is not the pinned one
  'BAD_REPLY', // a reply that does not match the schema
  'KEY_CHANGED', // a friend's key changed: sending is blocked until it is trusted
  'LOCKED', // the DM engine has no unlocked identity yet
  'CLOSED', // the DM engine was closed
  'WEAK_KEY_STRETCHING', // the server asked for less password stretching than this client accepts
  'KEY_NOT_LOGGED', // the server announced a key without a valid proof that its key log holds it
] as const;

export type LocalErrorCode = (typeof LOCAL_ERROR_CODES)[number];

/**
 * Why a password was refused (WEAK_PASSWORD's `reason`), so that clients can say it in their language:
 * too short, no character that is not a letter or digit, a control character, a common password or
 * word, a trivial pattern (one character, whitespace, a sequence, a keyboard row), or the username in it.
 */
export const PASSWORD_WEAKNESSES = ['short', 'symbol', 'control', 'common', 'pattern', 'username'] as const;
export type PasswordWeakness = (typeof PASSWORD_WEAKNESSES)[number];

/** Every code a failure may carry: the wire's and the client core's. */
export type AnyErrorCode = ErrorCode | LocalErrorCode;

export const LOCAL_ERROR_TEXT: Record<LocalErrorCode, string> = {
  DISCONNECTED: 'not connected to the server',
  TIMEOUT: 'the server did not answer in time',
  CERT_MISMATCH: "the server's certificate is not the one pinned",
  BAD_REPLY: 'the server sent a reply this client does not understand',
  KEY_CHANGED: "the friend's key changed: check the safety number, then trust it",
  LOCKED: 'direct messages are locked: unlock them with your password',
  CLOSED: 'direct messages are closed for this session',
  WEAK_KEY_STRETCHING: 'the server asked for weaker password protection than this app accepts: ask your administrator',
  KEY_NOT_LOGGED: "the server announced a key that its public key log does not hold: it may be swapping keys; don't send until this is explained",
};

export function errorText(code: AnyErrorCode): string {
  return Object.hasOwn(ERROR_TEXT, code) ? ERROR_TEXT[code as ErrorCode] : LOCAL_ERROR_TEXT[code as LocalErrorCode];
}

/**
 * An expected failure, as a value. `C` narrows the codes: the authority's handlers answer
 * `ErrorCode` only (what the wire carries); the client core may add its local codes.
 */
export interface Failure<C extends AnyErrorCode = AnyErrorCode> {
  code: C;
  message: string;
  /** For KICKED, TOO_MANY_ATTEMPTS, RATE_LIMITED, BUSY: when it may be tried again (ms since epoch). */
  until?: number;
  /** For WEAK_PASSWORD: which rule the password broke. */
  reason?: PasswordWeakness;
  /** What went wrong underneath, kept when a lower failure is wrapped (never sent on the wire). */
  cause?: unknown;
}

/** The result of anything that can fail in an expected way: a value, or a Failure with a code. */
export type Outcome<T, C extends AnyErrorCode = AnyErrorCode> =
  | { ok: true; value: T }
  | { ok: false; error: Failure<C> };

export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

/** What a failure may carry beside its code (the message defaults to the code's text). */
export type FailureExtra = Partial<Omit<Failure, 'code'>>;

export function failure<C extends AnyErrorCode>(
  code: C,
  extra: FailureExtra = {},
): Failure<C> {
  const f: Failure<C> = { code, message: extra.message ?? errorText(code) };
  if (extra.until !== undefined) f.until = extra.until;
  if (extra.reason !== undefined) f.reason = extra.reason;
  if (extra.cause !== undefined) f.cause = extra.cause;
  return f;
}

export function fail<C extends AnyErrorCode>(
  code: C,
  extra: FailureExtra = {},
): { ok: false; error: Failure<C> } {
  return { ok: false, error: failure(code, extra) };
}
