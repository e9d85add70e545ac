/** Every size, count and time limit of the wire, in one place. */
export const LIMITS = {
  /** Largest WebSocket frame the authority accepts (bytes). */
  maxFrameBytes: 64 * 1024,
  /** Longest room message text (characters, after NFC normalisation). */
  maxMessageChars: 4000,
  usernameMin: 3,
  usernameMax: 32,
  roomNameMin: 1,
  roomNameMax: 48,
  passwordMin: 12,
  passwordMax: 256,
  /** Longest OPAQUE message (base64url): the largest, a login response, is 427 characters. */
  maxOpaqueMessageChars: 1024,
  /** An admin's one-time reset code as typed (it is 19 characters: four groups of four). */
  maxResetCodeChars: 64,
  /**
   * How long the second half of a login or registration may take after the first: the client's
   * key stretching takes a fraction of a second, a slow machine under load a few; past it the
   * exchange is dropped (NO_AUTH_EXCHANGE) and a login counts as failed.
   */
  authExchangeMs: 60_000,
  /** Largest history page. */
  maxPageSize: 100,
  defaultPageSize: 50,
  /** Client-generated message id length (chars). */
  clientIdMin: 8,
  clientIdMax: 64,
  /** Max rooms in one sync request. */
  maxSyncRooms: 256,
  /**
   * Bytes of message JSON one syncRooms reply or history page may carry: the authority stops
   * adding messages at it and answers hasMore, so the client asks again from its new cursor.
   * Well under the authority's 4 MiB send-queue cap; at least one message always goes. Each
   * reply is built in one loop turn: 1 MiB ones stalled everyone else's messages ~25 ms apiece.
   */
  maxReplyBytes: 256 * 1024,
  /**
   * Entries in one page of a list that grows with the number of accounts (a room's members,
   * one's friends and friend requests, the pending access requests): the reply's `next` is the
   * cursor of the following page, null after the last. ~60 bytes an entry: ~30 KB a page.
   */
  listPageSize: 500,
  maxListCursorChars: 64,
  /** Signaling payload (SDP / ICE) size (bytes of JSON). */
  maxSignalBytes: 16 * 1024,
  /** Encrypted DM envelope size (chars of its JSON form). */
  maxEnvelopeChars: 24 * 1024,
  /** Hashes in a key log proof: one per level of a tree of 2^64 leaves. */
  maxKeyLogProof: 64,
  /** Bindings of one's own name in a keyLogMine page. */
  keyLogPageSize: 100,
  /**
   * Largest data-channel message (chars): the envelopes a DM engine sends in one loop turn go as
   * one JSON array of strings, well under WebRTC's 256 KiB message limit.
   */
  maxChannelChars: 64 * 1024,
  maxBanReasonChars: 200,
  /** Longest kick (temporary ban): a year; longer is a ban. */
  maxKickSeconds: 365 * 24 * 3600,
  maxClientVersionChars: 64,
  maxTokenChars: 128,
  /** Ids in one dm acknowledgement. */
  maxAckIds: 500,
  /** Devices one user may have (each DM engine install is one; unseen ones are forgotten after the stored-DM age). */
  maxDevices: 32,
  maxDeviceNameChars: 64,
} as const;

export const USERNAME_PATTERN = /^[A-Za-z0-9._-]+$/;

/** Control and format characters never allowed in names; message text allows \n and \t only. */
// eslint-disable-next-line no-control-regex
export const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]/;
// eslint-disable-next-line no-control-regex
export const TEXT_FORBIDDEN_CHARS = /[\u0000-\u0008\u000b-\u001f\u007f]/;
