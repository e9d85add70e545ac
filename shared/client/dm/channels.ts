/**
 * The data channels: one PeerLink per friend, opened on demand (the glare rule says who
 * offers; the other side knocks), bound to one of the friend's sessions, and the signaling that
 * carries WebRTC's offers, answers and candidates through the authority. A failed attempt sends
 * the friend's DMs through the authority for a while before direct is tried again.
 */
import type { ChannelState } from './types.js';
import type { DmContext } from './context.js';
import { PeerLink, type LinkCloseReason } from './peer-link.js';
import { peerKey } from './peer-key.js';
import { initiatesWith, SIGNAL_VERSION, SignalMessage } from './signal.js';
import { DM_DEFAULTS } from './types.js';

export class Channels {
  private readonly links = new Map<string, PeerLink>();
  private readonly directFailedAt = new Map<string, number>();
  /** Sends waiting for a channel the friend was asked (knocked) to open. */
  private readonly opening = new Map<string, Set<() => void>>();
  private readonly directTimeoutMs: number;
  private readonly directRetryAfterMs: number;

  constructor(
    private readonly ctx: DmContext,
    private readonly hooks: {
      /** One text from a channel, not yet authenticated (null: not a text the link can read). */
      received(username: string, text: string | null): void;
      /** A channel closed for a reason that may have lost what it carried. */
      lost(username: string): void;
    },
  ) {
    this.directTimeoutMs = ctx.options.directTimeoutMs ?? DM_DEFAULTS.directTimeoutMs;
    this.directRetryAfterMs = ctx.options.directRetryAfterMs ?? DM_DEFAULTS.directRetryAfterMs;
  }

  state(username: string): ChannelState {
    return this.links.get(peerKey(username))?.state ?? 'closed';
  }

  /** True when the text was taken by the open channel with this friend. */
  send(username: string, text: string): boolean {
    return this.links.get(peerKey(username))?.send(text) ?? false;
  }

  close(username: string, reason: LinkCloseReason): void {
    this.links.get(peerKey(username))?.destroy(reason);
  }

  closeAll(reason: LinkCloseReason): void {
    for (const link of [...this.links.values()]) link.destroy(reason);
  }

  /** Is a channel open with this friend, or can one be opened in time? */
  async tryDirect(peer: string): Promise<boolean> {
    const key = peerKey(peer);
    const link = this.links.get(key);
    if (link?.state === 'open') return true;
    if (!this.ctx.options.createPeer || this.ctx.client.status !== 'ready') return false;
    if (!this.ctx.friend(peer)?.online) return false;
    const failedAt = this.directFailedAt.get(key);
    if (failedAt !== undefined && Date.now() - failedAt < this.directRetryAfterMs) return false;
    const opened = link?.state === 'connecting' ? await link.opened : await this.open(peer);
    if (!opened) this.directFailedAt.set(key, Date.now());
    return opened && this.links.get(key)?.state === 'open';
  }

  private async open(peer: string): Promise<boolean> {
    // Either way a knock: the friend initiates (glare rule), or, when we do, their sessions say
    // which of them is there and we offer to the first that answers. Then we wait for the channel.
    const waiting = this.waitForOpen(peer, this.directTimeoutMs);
    const knocked = await this.ctx.client.call('sendSignal', {
      to: peer,
      data: { v: SIGNAL_VERSION, kind: 'knock', sid: this.ctx.sessionId },
    });
    if (!knocked.ok) {
      waiting.cancel();
      return false;
    }
    return waiting.result;
  }

  private waitForOpen(peer: string, timeoutMs: number): { result: Promise<boolean>; cancel(): void } {
    const key = peerKey(peer);
    let finish: (open: boolean) => void = () => undefined;
    const result = new Promise<boolean>((resolve) => {
      const onOpen = () => finish(true);
      const timer = setTimeout(() => finish(false), timeoutMs);
      let waiters = this.opening.get(key);
      if (!waiters) this.opening.set(key, (waiters = new Set()));
      waiters.add(onOpen);
      finish = (open) => {
        clearTimeout(timer);
        waiters.delete(onOpen);
        if (waiters.size === 0 && this.opening.get(key) === waiters) this.opening.delete(key);
        resolve(open);
      };
    });
    return { result, cancel: () => finish(false) };
  }

  private newLink(peer: string, initiator: boolean, remoteSid: string | null): PeerLink {
    const key = peerKey(peer);
    this.links.get(key)?.destroy('REPLACED');
    const session = this.ctx.client.session;
    const link = new PeerLink({
      username: peer,
      initiator,
      remoteSid,
      createPeer: this.ctx.options.createPeer!,
      config: { iceServers: session?.iceServers ?? [], ...this.ctx.options.rtcConfig },
      connectTimeoutMs: this.directTimeoutMs,
      onSignal: (l, data) => this.sendRtcSignal(l, data),
      onMessage: (l, text) => {
        if (this.links.get(key) === l) this.hooks.received(l.username, text);
      },
      onOpen: (l) => {
        this.directFailedAt.delete(key);
        this.ctx.report('channel', { username: l.username, state: 'open' });
        for (const opened of [...(this.opening.get(key) ?? [])]) opened();
      },
      onClose: (l, reason, cause) => this.onClosed(l, reason, cause),
    });
    this.links.set(key, link);
    if (link.state === 'connecting') this.ctx.report('channel', { username: peer, state: 'connecting' });
    return link;
  }

  private sendRtcSignal(link: PeerLink, rtc: unknown): void {
    const data = { v: SIGNAL_VERSION, kind: 'rtc', sid: this.ctx.sessionId, to: link.remoteSid ?? undefined, rtc };
    void this.ctx.client.call('sendSignal', { to: link.username, data }).then((r) => {
      if (!r.ok) {
        this.ctx.log('signal_failed', { to: link.username, code: r.error.code });
        link.destroy('SIGNAL_FAILED', r.error);
      }
    });
  }

  private onClosed(link: PeerLink, reason: LinkCloseReason, cause?: unknown): void {
    const key = peerKey(link.username);
    if (this.links.get(key) === link) {
      this.links.delete(key);
      this.ctx.report('channel', { username: link.username, state: 'closed' });
    }
    if (reason === 'PEER_ERROR') {
      this.ctx.log('channel_failed', { with: link.username, error: (cause as Error | undefined)?.message ?? String(cause) });
      this.ctx.reject(link.username, 'PEER_ERROR', 'signal');
    }
    if (reason === 'ENGINE_CLOSED' || reason === 'UNFRIENDED' || reason === 'KEY_CHANGED' || !this.ctx.ready) return;
    this.hooks.lost(link.username);
  }

  /** A signal from a friend's engine: a knock, or WebRTC's offer, answer or candidate. */
  onSignal(from: string, data: unknown): void {
    const friend = this.ctx.friend(from);
    if (!friend) return this.ctx.reject(from, 'NOT_FRIENDS', 'signal');
    const parsed = SignalMessage.safeParse(data);
    if (!parsed.success) return this.ctx.reject(friend.username, 'BAD_SIGNAL', 'signal');
    const m = parsed.data;
    if (m.sid === this.ctx.sessionId || !this.ctx.options.createPeer) return;
    if (m.kind === 'rtc' && m.to !== undefined && m.to !== this.ctx.sessionId) return; // for another session of mine
    const link = this.links.get(peerKey(friend.username));
    const initiator = initiatesWith(this.ctx.me!.username, friend.username);
    if (m.kind === 'knock') {
      if (m.to !== undefined && m.to !== this.ctx.sessionId) return; // an answer to another session of mine
      if (!initiator) {
        // The initiator asks which of my sessions is there: this one is.
        if (m.to !== undefined) return this.ctx.reject(friend.username, 'BAD_SIGNAL', 'signal');
        void this.ctx.client.call('sendSignal', {
          to: friend.username,
          data: { v: SIGNAL_VERSION, kind: 'knock', sid: this.ctx.sessionId, to: m.sid },
        });
        return;
      }
      if (link && link.remoteSid === m.sid) return; // already connecting or connected to that session
      // An answer to our question: the first session to answer gets the offer, the others are
      // not offered to while its channel is open or opening. A knock of the friend's own (a
      // session that wants a channel) replaces the channel, as a session that came back does.
      if (m.to !== undefined && link && link.state !== 'closed') return;
      this.newLink(friend.username, true, m.sid);
      return;
    }
    const rtc = m.rtc;
    if (initiator) {
      if (rtc.type === 'offer') return this.ctx.reject(friend.username, 'BAD_SIGNAL', 'signal'); // the glare rule says we offer
      if (!link || !link.initiator || link.state === 'closed') return;
      if (link.remoteSid === m.sid) link.signal(rtc);
      return;
    }
    if (rtc.type === 'offer') {
      this.newLink(friend.username, false, m.sid).signal(rtc);
    } else if (rtc.type === 'answer') {
      this.ctx.reject(friend.username, 'BAD_SIGNAL', 'signal');
    } else if (link && !link.initiator && link.remoteSid === m.sid) {
      link.signal(rtc);
    }
  }
}
