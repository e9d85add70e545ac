/**
 * One WebRTC data channel with one friend: connecting → open → closed, with a deadline on
 * connecting and a single idempotent destroy() that every error path goes through (keeping
 * the error that caused it, for the log).
 *
 * The link carries DM envelopes only; it trusts nothing it receives (the engine opens each
 * envelope with the friend's pinned keys), because the DTLS fingerprints that secure the
 * channel travelled through the authority.
 *
 * What is sent in one loop turn leaves as one channel message: a lone text as it is, several as
 * a JSON array of strings (envelopes are JSON objects, so the first character tells them
 * apart). Each channel message costs a hop to WebRTC's own thread (~0.3 ms with
 * @roamhq/wrtc), so a burst of DMs is carried in a few messages instead of one each.
 *
 * Backpressure, as simple-peer's stream users do it: channel messages are written with
 * `write()`, which simple-peer holds back while the data channel's bufferedAmount is over its
 * high-water mark (CHANNEL_HIGH_WATER_MARK); when write() says "enough", the link keeps the
 * rest and goes on at 'drain' (the channel's bufferedamountlow). A burst therefore never
 * overfills the channel's send queue (browsers close a channel whose queue overflows).
 */
import { LIMITS } from '../../protocol/index.js';
import { utf8Decode } from '../../crypto/index.js';
import { nextTurn } from '../next-turn.js';
import type { ChannelState, CreatePeer, PeerLike, PeerOptions } from './types.js';

export interface PeerLinkOptions {
  /** The friend's username, as the authority spells it. */
  username: string;
  initiator: boolean;
  /** The friend's session this link is bound to (null until an initiator hears an answer). */
  remoteSid: string | null;
  createPeer: CreatePeer;
  config: PeerOptions['config'];
  connectTimeoutMs: number;
  /** A simple-peer signal to carry to the friend. */
  onSignal(link: PeerLink, data: unknown): void;
  /** One text message from the channel (not yet authenticated). */
  onMessage(link: PeerLink, text: string | null): void;
  onOpen(link: PeerLink): void;
  /** Called exactly once, whatever closed the link; `cause` is the error underneath, if any. */
  onClose(link: PeerLink, reason: LinkCloseReason, cause?: unknown): void;
}

/**
 * The data channel's bufferedAmount above which simple-peer holds writes back (its
 * MAX_BUFFERED_AMOUNT, also the channel's bufferedAmountLowThreshold): the link's sends wait
 * past it. Named here because the link's behaviour depends on it; simple-peer does not export it.
 */
export const CHANNEL_HIGH_WATER_MARK = 64 * 1024;

/** Why a link closed, for logs and tests. */
export type LinkCloseReason =
  | 'TIMEOUT'
  | 'PEER_ERROR'
  | 'PEER_CLOSED'
  | 'PEER_OFFLINE'
  | 'REPLACED'
  | 'UNFRIENDED'
  | 'ENGINE_CLOSED'
  | 'KEY_CHANGED'
  | 'SIGNAL_FAILED';

export class PeerLink {
  state: ChannelState = 'connecting';
  remoteSid: string | null;
  readonly initiator: boolean;
  readonly username: string;
  /** Resolves true when the channel opens, false when the link closes first. */
  readonly opened: Promise<boolean>;
  private peer: PeerLike | null;
  private timer: ReturnType<typeof setTimeout> | null;
  private settle!: (open: boolean) => void;
  /** The texts of the batch filling up in this loop turn. */
  private batch: string[] = [];
  private batchChars = 0;
  /** Channel messages ready, waiting for the channel to drain. */
  private readonly frames: string[] = [];
  private framesChars = 0;
  /** write() said the channel is full: nothing more until 'drain'. */
  private congested = false;
  private flushPending = false;

  constructor(private readonly o: PeerLinkOptions) {
    this.initiator = o.initiator;
    this.username = o.username;
    this.remoteSid = o.remoteSid;
    this.opened = new Promise((resolve) => (this.settle = resolve));
    this.timer = setTimeout(() => this.destroy('TIMEOUT'), o.connectTimeoutMs);
    let peer: PeerLike;
    try {
      peer = o.createPeer({ initiator: o.initiator, trickle: true, config: o.config });
    } catch (err) {
      this.peer = null;
      queueMicrotask(() => this.destroy('PEER_ERROR', err));
      return;
    }
    this.peer = peer;
    peer.on('signal', (data) => {
      if (this.state !== 'closed') o.onSignal(this, data);
    });
    peer.on('connect', () => this.markOpen());
    peer.on('data', (data) => {
      // The friend's side may open first and send before our 'connect' fires: data proves the channel works.
      if (this.state === 'closed') return;
      this.markOpen();
      const texts = decode(data);
      if (texts === null) o.onMessage(this, null);
      else for (const text of texts) if ((this.state as ChannelState) !== 'closed') o.onMessage(this, text);
    });
    peer.on('drain', () => {
      this.congested = false;
      this.flush();
    });
    peer.on('close', () => this.destroy('PEER_CLOSED'));
    peer.on('error', (err) => this.destroy('PEER_ERROR', err));
  }

  private markOpen(): void {
    if (this.state !== 'connecting') return;
    this.state = 'open';
    this.clearTimer();
    this.settle(true);
    this.o.onOpen(this);
  }

  /** Hands a signal from the friend to WebRTC; a bad one ends the link, never the process. */
  signal(data: unknown): void {
    if (this.state === 'closed' || !this.peer) return;
    try {
      this.peer.signal(data);
    } catch (err) {
      this.destroy('PEER_ERROR', err);
    }
  }

  /**
   * True when the text was taken for the open channel: it leaves at the end of this loop turn
   * with whatever else was sent in it (or when the link is destroyed, if sooner), or, while
   * the channel is full, once it drains, in the order sent. A channel that closes or breaks
   * may lose what it carried: the engine sends anything not receipted again by the authority.
   */
  send(text: string): boolean {
    if (this.state !== 'open' || !this.peer) return false;
    // JSON.stringify adds at least the quotes and a comma per text; escapes are counted in seal().
    if (this.batch.length > 0 && this.batchChars + text.length + 3 > LIMITS.maxChannelChars) this.seal();
    this.batch.push(text);
    this.batchChars += text.length + 3;
    if (!this.flushPending) {
      this.flushPending = true;
      nextTurn(() => {
        this.flushPending = false;
        this.flush();
      });
    }
    return true;
  }

  /** Characters taken by send() and not yet handed to WebRTC (held back while the channel is full). */
  get backlog(): number {
    return this.batchChars + this.framesChars;
  }

  private flush(): void {
    try {
      this.seal();
      this.writeFrames();
    } catch (err) {
      this.destroy('PEER_ERROR', err);
    }
  }

  /** The batch filled so far becomes one channel message (two if escapes made it longer than counted). */
  private seal(): void {
    const texts = this.batch;
    if (texts.length === 0) return;
    this.batch = [];
    this.batchChars = 0;
    if (texts.length === 1) return this.queueFrame(texts[0]!);
    const batch = JSON.stringify(texts);
    if (batch.length <= LIMITS.maxChannelChars) return this.queueFrame(batch);
    const half = texts.length >> 1;
    this.queueFrame(JSON.stringify(texts.slice(0, half)));
    this.queueFrame(JSON.stringify(texts.slice(half)));
  }

  private queueFrame(frame: string): void {
    this.frames.push(frame);
    this.framesChars += frame.length;
  }

  /** Hands ready channel messages to WebRTC until it says the channel is full. */
  private writeFrames(): void {
    while (this.frames.length > 0 && !this.congested && this.state === 'open' && this.peer) {
      const frame = this.frames.shift()!;
      this.framesChars -= frame.length;
      if (!this.peer.write(frame)) this.congested = true;
    }
  }

  /** Idempotent: the first call closes everything and reports why; later calls do nothing. */
  destroy(reason: LinkCloseReason = 'PEER_CLOSED', cause?: unknown): void {
    if (this.state === 'closed') return;
    try {
      // Handed to WebRTC first, unless the channel is full (WebRTC may still drop it if the
      // connection closes now).
      this.seal();
      this.writeFrames();
    } catch {
      // the channel is already broken: the engine sends what was not receipted another way
    }
    this.state = 'closed';
    this.clearTimer();
    this.batch = [];
    this.batchChars = 0;
    this.frames.length = 0;
    this.framesChars = 0;
    const peer = this.peer;
    this.peer = null;
    try {
      peer?.destroy();
    } catch {
      /* already torn down */
    }
    this.settle(false);
    this.o.onClose(this, reason, cause);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

/** Most texts one batch may carry (a batch of empty strings would otherwise be 20k texts). */
const MAX_BATCH_TEXTS = 1024;

/**
 * The texts of one channel message: simple-peer hands Node Buffers or browser Uint8Arrays,
 * holding one text or a batch of them. Oversized, not text, or a bad batch: null.
 */
export function decode(data: unknown): string[] | null {
  let text: string | null = null;
  if (typeof data === 'string') text = data;
  else if (data instanceof Uint8Array && data.length <= LIMITS.maxChannelChars * 3) text = utf8Decode(data);
  if (text === null || text.length > LIMITS.maxChannelChars) return null;
  if (!text.startsWith('[')) return text.length <= LIMITS.maxEnvelopeChars ? [text] : null;
  let batch: unknown;
  try {
    batch = JSON.parse(text);
  } catch {
    return null;
  }
  if (!Array.isArray(batch) || batch.length === 0 || batch.length > MAX_BATCH_TEXTS) return null;
  for (const item of batch) if (typeof item !== 'string' || item.length > LIMITS.maxEnvelopeChars) return null;
  return batch as string[];
}
