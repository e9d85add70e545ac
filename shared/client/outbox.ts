/**
 * My room messages on their way: each stays "sending" across disconnects and is resent with
 * the same client id (the authority never stores it twice) until acknowledged ("sent") or
 * refused for good ("failed", retried by hand). A sent message stays here until it is back in
 * its room through the fan-out or a sync, so that a timeline built from the room's messages
 * plus pending() shows it exactly once, in place, all along.
 */
import type { Failure, Outcome, Result } from '../protocol/index.js';
import { isTransient, rateLimitDelay } from './retry.js';

export type OutboxStatus = 'sending' | 'sent' | 'failed';

export interface OutgoingMessage {
  clientId: string;
  room: string;
  text: string;
  status: OutboxStatus;
  seq?: number;
  error?: Failure;
  createdAt: number;
}

export interface OutboxHooks {
  /** True while the session can send (messages wait for flush() otherwise). */
  canSend(): boolean;
  post(m: OutgoingMessage): Promise<Outcome<Result<'postMessage'>>>;
  /** True when the room already holds this sequence number. */
  inRoom(room: string, seq: number): boolean;
  /** A message changed status (or is reported again after a disconnect). */
  changed(m: OutgoingMessage): void;
  newId(): string;
}

export class Outbox {
  private readonly messages = new Map<string, OutgoingMessage>();

  constructor(private readonly hooks: OutboxHooks) {}

  /** Every message held: sending, failed, or sent and not yet back in its room. */
  values(): IterableIterator<OutgoingMessage> {
    return this.messages.values();
  }

  get(clientId: string): OutgoingMessage | undefined {
    return this.messages.get(clientId);
  }

  /** Mine in this room not yet among its messages, oldest first. */
  pending(room: string): OutgoingMessage[] {
    const mine: OutgoingMessage[] = [];
    for (const m of [...this.messages.values()]) {
      if (m.room !== room) continue;
      // Back in the room by a way that did not pass arrived() (a history page): no longer pending.
      if (m.status === 'sent' && m.seq !== undefined && this.hooks.inRoom(room, m.seq)) this.messages.delete(m.clientId);
      else mine.push(m);
    }
    return mine.sort((a, b) => a.createdAt - b.createdAt);
  }

  post(room: string, text: string): OutgoingMessage {
    const m: OutgoingMessage = { clientId: this.hooks.newId(), room, text, status: 'sending', createdAt: Date.now() };
    this.messages.set(m.clientId, m);
    this.hooks.changed(m);
    void this.trySend(m);
    return m;
  }

  /** Tries a failed message again (the UI's retry). */
  retry(clientId: string): void {
    const m = this.messages.get(clientId);
    if (!m || m.status !== 'failed') return;
    m.status = 'sending';
    m.error = undefined;
    this.hooks.changed(m);
    void this.trySend(m);
  }

  /** Sends everything still sending, oldest first (the session is ready again). */
  flush(): void {
    const waiting = [...this.messages.values()].filter((m) => m.status === 'sending').sort((a, b) => a.createdAt - b.createdAt);
    for (const m of waiting) void this.trySend(m);
  }

  /** The connection dropped: what was sending is reported again (still sending, resent later). */
  interrupted(): void {
    for (const m of this.messages.values()) if (m.status === 'sending') this.hooks.changed(m);
  }

  /**
   * One of my messages arrived in its room (the fan-out or a sync): it is no longer pending. If
   * it comes before the authority's acknowledgement, it is acknowledged by that (the room holds it).
   */
  arrived(room: string, seq: number, clientId: string): void {
    const m = this.messages.get(clientId);
    if (!m || m.room !== room || m.status === 'failed' || (m.seq !== undefined && m.seq !== seq)) return;
    this.messages.delete(clientId);
    if (m.status === 'sending') {
      m.status = 'sent';
      m.seq = seq;
      this.hooks.changed(m);
    }
  }

  private async trySend(m: OutgoingMessage): Promise<void> {
    if (!this.hooks.canSend()) return; // flush() sends it once the session is back
    const r = await this.hooks.post(m);
    if (m.status !== 'sending') return;
    if (r.ok) {
      m.status = 'sent';
      m.seq = r.value.seq;
      if (this.hooks.inRoom(m.room, m.seq)) this.messages.delete(m.clientId);
      this.hooks.changed(m);
      return;
    }
    if (r.error.code === 'RATE_LIMITED') {
      setTimeout(() => void this.trySend(m), rateLimitDelay(r.error));
      return;
    }
    if (isTransient(r.error.code)) return; // resent after the reconnect
    m.status = 'failed';
    m.error = r.error;
    this.hooks.changed(m);
  }
}
