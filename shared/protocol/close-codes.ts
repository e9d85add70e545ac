/** Every custom WebSocket close code the authority uses (4000–4999), in one list. */
export const CLOSE_CODES = {
  /** Frame was not valid JSON / not an object. */
  MALFORMED_FRAME: 4000,
  /** Frame exceeded LIMITS.maxFrameBytes. */
  FRAME_TOO_LARGE: 4001,
  /** Too many malformed requests in a row. */
  PROTOCOL_ABUSE: 4002,
  /** Asked again and again before the time a refusal gave (RATE_LIMITED, TOO_MANY_ATTEMPTS, BUSY). */
  IGNORED_RETRY_TIME: 4003,
  /** Send queue past its cap: the client reads too slowly; resume from history. */
  SLOW_CONSUMER: 4008,
  /** The session was ended by logout elsewhere, a password change or an admin. */
  SESSION_ENDED: 4010,
  /** The account or address was banned. */
  BANNED: 4011,
  /** Kicked: the reason carries the end time (ISO 8601). */
  KICKED: 4012,
  /** Too many connections from one address. */
  TOO_MANY_CONNECTIONS: 4013,
  /** The account was deleted. */
  ACCOUNT_DELETED: 4014,
  /** The authority is shutting down; reconnect later. */
  SHUTDOWN: 4050,
  /** No login within the allotted time. */
  LOGIN_TIMEOUT: 4060,
} as const;

export type CloseCode = (typeof CLOSE_CODES)[keyof typeof CLOSE_CODES];

/** Close codes after which a client must not reconnect by itself. */
export const TERMINAL_CLOSE_CODES: ReadonlySet<number> = new Set([
  CLOSE_CODES.SESSION_ENDED,
  CLOSE_CODES.BANNED,
  CLOSE_CODES.KICKED,
  CLOSE_CODES.ACCOUNT_DELETED,
]);
