/**
 * One WebRTC data channel with one friend: connecting → open → closed, with a deadline on
 * connecting and a single idempotent destroy() that every error path goes through.
 *
 * The link carries DM envelopes only; it trusts nothing it receives (the engine opens each
 * envelope with the friend's pinned keys), because the DTLS fingerprints that secure the
 * channel travelled through the authority.
 */
import { LIMITS } from '../../protocol/index.js';
import { utf8Decode } from '../../crypto/index.js';
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
  /** Called exactly once, whatever closed the link. */
  onClose(link: PeerLink, reason: LinkCloseReason): void;
}

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

  constructor(private readonly o: PeerLinkOptions) {
    this.initiator = o.initiator;
    this.username = o.username;
    this.remoteSid = o.remoteSid;
    this.opened = new Promise((resolve) => (this.settle = resolve));
    this.timer = setTimeout(() => this.destroy('TIMEOUT'), o.connectTimeoutMs);
    let peer: PeerLike;
    try {
      peer = o.createPeer({ initiator: o.initiator, trickle: true, config: o.config });
    } catch {
      this.peer = null;
      queueMicrotask(() => this.destroy('PEER_ERROR'));
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
      o.onMessage(this, decode(data));
    });
    peer.on('close', () => this.destroy('PEER_CLOSED'));
    peer.on('error', () => this.destroy('PEER_ERROR'));
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
    } catch {
      this.destroy('PEER_ERROR');
    }
  }

  /** True when the text was handed to the open channel. */
  send(text: string): boolean {
    if (this.state !== 'open' || !this.peer) return false;
    try {
      this.peer.send(text);
      return true;
    } catch {
      this.destroy('PEER_ERROR');
      return false;
    }
  }

  /** Idempotent: the first call closes everything and reports why; later calls do nothing. */
  destroy(reason: LinkCloseReason = 'PEER_CLOSED'): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.clearTimer();
    const peer = this.peer;
    this.peer = null;
    try {
      peer?.destroy();
    } catch {
      /* already torn down */
    }
    this.settle(false);
    this.o.onClose(this, reason);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

/** Channel data as text: simple-peer hands Node Buffers or browser Uint8Arrays. Oversized or invalid: null. */
function decode(data: unknown): string | null {
  if (typeof data === 'string') return data.length <= LIMITS.maxEnvelopeChars ? data : null;
  if (data instanceof Uint8Array) return data.length <= LIMITS.maxEnvelopeChars ? utf8Decode(data) : null;
  return null;
}
