/**
 * DM history on a new device (issue 13 §2): another of my devices that is online sends it,
 * peer-to-peer, over a WebRTC data channel between the two.
 *
 *   new device   unlocks with the account's identity and an empty history: asks my other
 *                sessions for it (a knock to myself, through the authority's signaling)
 *   old device   the first unlocked one to hear it offers a channel to that session, then sends
 *                historyStart {total}, each DM as a copy (`sync`), historyEnd
 *   new device   writes each DM it does not have, reports progress, closes the channel
 *
 * Everything on the channel is sealed to my own key (as the copies between my devices are): the
 * DTLS fingerprints travelled through the authority, which could stand in the middle of the
 * channel but still reads nothing, and a session without my keys (a stolen token) can neither
 * read what is sent nor forge history.
 */
import { openEnvelope, ReplayGuard, sealEnvelope } from '../../crypto/index.js';
import { newClientId } from '../client.js';
import type { DmContext } from './context.js';
import { copyOf, recordOfCopy, type DeviceSync } from './device-sync.js';
import { PeerLink } from './peer-link.js';
import { SIGNAL_VERSION, SignalMessage } from './signal.js';
import { DM_DEFAULTS, type HistoryProgress } from './types.js';

/** Characters queued on the channel above which the sender waits for it to drain. */
const SEND_AHEAD_CHARS = 256 * 1024;
const DRAIN_POLL_MS = 10;
const PROGRESS_EVERY = 50;
/** A transfer cut before its end (the channel failed to open, or closed), or a question no device answered in time, is asked again, this many times. */
const RETRIES = 3;
const RETRY_AFTER_MS = 1000;

export class HistoryTransfer {
  private link: PeerLink | null = null;
  private progress: HistoryProgress | null = null;
  private retries = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;

  constructor(
    private readonly ctx: DmContext,
    /** Seals to my own key and opens what was sealed so, as the copies between my devices are. */
    private readonly devices: DeviceSync,
    private readonly hooks: { progress(p: HistoryProgress): void },
  ) {}

  /** Asks my other devices for the DM history (true when asked: WebRTC here, and a session). */
  async request(): Promise<boolean> {
    const me = this.ctx.me;
    if (!me || !this.ctx.options.createPeer || this.link) return false;
    const r = await this.ctx.client.call('sendSignal', { to: me.username, data: { v: SIGNAL_VERSION, kind: 'knock', sid: this.ctx.sessionId } });
    if (!r.ok) {
      this.ctx.log('history_request_failed', { code: r.error.code });
      return false;
    }
    // A device was there to ask: if none offers a channel in time (the question or its answer
    // lost on the way), asked again, as a cut transfer is.
    this.retryLater(this.connectTimeoutMs());
    return true;
  }

  private connectTimeoutMs(): number {
    return this.ctx.options.directTimeoutMs ?? DM_DEFAULTS.directTimeoutMs;
  }

  /** Asks again after `delayMs` unless a channel is open or opening by then; a few times at most. */
  private retryLater(delayMs: number): void {
    if (this.retryTimer || this.closed || this.retries >= RETRIES) return;
    this.retries++;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.closed && !this.link && !this.progress?.done) void this.request();
    }, delayMs);
  }

  close(): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.link?.destroy('ENGINE_CLOSED');
  }

  /** A signal from another session of mine: a request for history, or the channel's WebRTC. */
  onSignal(data: unknown): void {
    const me = this.ctx.me;
    const parsed = SignalMessage.safeParse(data);
    if (!me || !parsed.success || !this.ctx.options.createPeer) return;
    const m = parsed.data;
    if (m.sid === this.ctx.sessionId) return;
    if (m.kind === 'knock') {
      // Another device of mine wants the history: this one sends it, unless it is busy or has
      // none (another new device: its empty answer would end the asker's wait for the real one).
      if (m.to === undefined && !this.link && (this.ctx.history?.count() ?? 0) > 0) this.open(true, m.sid);
      return;
    }
    if (m.to !== this.ctx.sessionId) return;
    if (m.rtc.type === 'offer') {
      // The first of my devices to offer sends the history; the others' offers are ignored.
      if (this.link && this.link.remoteSid !== m.sid) return;
      this.link?.destroy('REPLACED'); // the same device offering again (its first try failed)
      if (this.retryTimer) clearTimeout(this.retryTimer);
      this.retryTimer = null;
      this.open(false, m.sid);
    }
    if (this.link?.remoteSid === m.sid) this.link.signal(m.rtc);
  }

  private open(sender: boolean, remoteSid: string): void {
    const me = this.ctx.me!;
    const session = this.ctx.client.session;
    const link = new PeerLink({
      username: me.username,
      initiator: sender,
      remoteSid,
      createPeer: this.ctx.options.createPeer!,
      config: { iceServers: session?.iceServers ?? [], ...this.ctx.options.rtcConfig },
      connectTimeoutMs: this.connectTimeoutMs(),
      onSignal: (l, rtc) => {
        const data = { v: SIGNAL_VERSION, kind: 'rtc', sid: this.ctx.sessionId, to: l.remoteSid ?? undefined, rtc };
        void this.ctx.client.call('sendSignal', { to: me.username, data }).then((r) => {
          if (!r.ok) l.destroy('SIGNAL_FAILED', r.error);
        });
      },
      onMessage: (l, text) => {
        if (this.link === l && !sender) this.receive(text);
      },
      onOpen: (l) => {
        if (sender) void this.send(l);
      },
      onClose: (l, reason) => {
        if (this.link === l) this.link = null;
        if (sender || this.progress?.done || this.closed || reason === 'REPLACED') return;
        // Cut before the end (it never opened, or closed half-way): asked again a few times.
        this.ctx.log('history_transfer_cut', { reason, received: this.progress?.received ?? 0 });
        this.progress = null;
        this.retryLater(RETRY_AFTER_MS * (this.retries + 1));
      },
    });
    this.link = link;
  }

  /** Sends every DM of this device's history, sealed to my own key, waiting while the channel is full. */
  private async send(link: PeerLink): Promise<void> {
    const history = this.ctx.history;
    if (!history) return link.destroy('ENGINE_CLOSED');
    const messages = history.export(Date.now()).messages.filter((r) => r.status !== 'failed');
    const keys = this.devices.keysForMe()!;
    const seal = (body: Parameters<typeof sealEnvelope>[1]['body']) => sealEnvelope(keys, { id: newClientId(), body });
    link.send(seal({ kind: 'historyStart', total: messages.length }));
    for (const r of messages) {
      while (link.state === 'open' && link.backlog > SEND_AHEAD_CHARS) await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
      if (link.state !== 'open') return;
      link.send(sealEnvelope(keys, copyOf(r)));
    }
    link.send(seal({ kind: 'historyEnd' }));
    this.ctx.log('history_sent', { count: messages.length });
  }

  private receive(text: string | null): void {
    const me = this.ctx.me;
    const history = this.ctx.history;
    if (!me || !history || text === null) return;
    const opened = openEnvelope(this.devices.keysForMe()!, text, new ReplayGuard());
    if (!opened.ok) return this.ctx.reject(me.username, opened.reason, 'direct');
    const { id, ts, body } = opened.message;
    if (body.kind === 'historyStart') {
      this.progress = { received: 0, total: body.total, added: 0, done: false };
    } else if (body.kind === 'sync' && this.progress) {
      this.progress.received++;
      if (history.insert(recordOfCopy(me.username, { id, ts, body }), Date.now())) this.progress.added++;
    } else if (body.kind === 'historyEnd' && this.progress) {
      this.progress.done = true;
      this.link?.destroy('PEER_CLOSED');
    } else {
      return this.ctx.reject(me.username, 'MALFORMED', 'direct');
    }
    // Said at the start, every PROGRESS_EVERY DMs and at the end (not once per DM of a long history).
    const p = this.progress!;
    if (body.kind !== 'sync' || p.received % PROGRESS_EVERY === 0) this.hooks.progress({ ...p });
  }
}
