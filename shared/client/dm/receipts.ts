/**
 * Receipts and acknowledgements, the two confirmations a DM gets. Receipts go between friends,
 * encrypted: each DM received is receipted (batched per loop turn), and a receipt marks the
 * sent DM "delivered"; a DM sent over a channel without a receipt yet is relayed if that channel
 * closes first. Acknowledgements go to the authority for stored envelopes, only once the history
 * holding them is saved (the authority then deletes its copy); a redelivery of an envelope not
 * yet acknowledged is recognised and skipped.
 */
import { MAX_RECEIPT_IDS, sealEnvelope } from '../../crypto/index.js';
import { LIMITS } from '../../protocol/index.js';
import { newClientId } from '../client.js';
import type { Channels } from './channels.js';
import type { DmContext } from './context.js';
import type { Keys } from './keys.js';
import { peerKey } from './peer-key.js';
import type { DmRecord } from './types.js';

export interface Unreceipted {
  peer: string;
  id: string;
  wire: string;
}

export class Receipts {
  /** Sent over a channel, no receipt yet: relayed if that channel closes first. */
  private readonly unreceipted = new Map<string, Unreceipted>();
  private readonly receiptsDue = new Map<string, Set<string>>();
  private receiptTimer: ReturnType<typeof setTimeout> | null = null;
  private acksDue: number[] = [];
  /** Stored-envelope ids received and not yet acknowledged: a redelivery of one is skipped. */
  private readonly unacked = new Set<number>();
  private ackTimer: ReturnType<typeof setTimeout> | null = null;
  private acking: Promise<void> = Promise.resolve();

  constructor(
    private readonly ctx: DmContext,
    private readonly keys: Keys,
    private readonly channels: Channels,
    /** A sent DM's receipt came back. */
    private readonly delivered: (record: DmRecord) => void,
  ) {}

  // ---------- receipts from and to friends ----------

  sentDirect(sent: Unreceipted): void {
    this.unreceipted.set(sent.id, sent);
  }

  isUnreceipted(id: string): boolean {
    return this.unreceipted.has(id);
  }

  /** What went to this friend over a channel without a receipt; forgotten here. */
  takeUnreceipted(username: string): Unreceipted[] {
    const key = peerKey(username);
    const taken: Unreceipted[] = [];
    for (const [id, sent] of [...this.unreceipted]) {
      if (peerKey(sent.peer) !== key) continue;
      this.unreceipted.delete(id);
      taken.push(sent);
    }
    return taken;
  }

  onReceipt(peer: string, ids: string[]): void {
    for (const id of ids) {
      this.unreceipted.delete(id);
      const record = this.ctx.history!.get(peer, id);
      if (!record || record.direction !== 'out' || record.status === 'delivered') continue;
      this.delivered(record);
    }
  }

  /** A receipt for this DM goes out at the end of the loop turn, with the others due. */
  receiptLater(peer: string, id: string): void {
    const key = peerKey(peer);
    let ids = this.receiptsDue.get(key);
    if (!ids) this.receiptsDue.set(key, (ids = new Set()));
    ids.add(id);
    this.receiptTimer ??= setTimeout(() => {
      this.receiptTimer = null;
      if (this.ctx.ready) void this.flushReceipts();
    }, 0);
  }

  async flushReceipts(): Promise<void> {
    if (this.receiptTimer) clearTimeout(this.receiptTimer);
    this.receiptTimer = null;
    const history = this.ctx.history;
    if (!history) return;
    const due = [...this.receiptsDue];
    this.receiptsDue.clear();
    const relays: Promise<unknown>[] = [];
    for (const [key, idSet] of due) {
      const pin = history.pin(key);
      if (!pin || pin.pending) continue; // the friend's new key is not trusted: no receipt to it
      const keys = this.keys.channelKeysFor(pin);
      const ids = [...idSet];
      for (let i = 0; i < ids.length; i += MAX_RECEIPT_IDS) {
        const wire = sealEnvelope(keys, { id: newClientId(), body: { kind: 'receipt', ids: ids.slice(i, i + MAX_RECEIPT_IDS) } });
        if (this.channels.send(pin.username, wire)) continue;
        relays.push(
          this.ctx.client.call('relayDm', { to: pin.username, envelope: wire }).then((r) => {
            if (!r.ok) this.ctx.log('receipt_failed', { to: pin.username, code: r.error.code });
          }),
        );
      }
    }
    await Promise.all(relays);
  }

  // ---------- acknowledgements to the authority ----------

  /** False when this stored envelope is a redelivery of one not yet acknowledged (skip it). */
  noteStored(storeId: number): boolean {
    if (this.unacked.has(storeId)) return false;
    this.unacked.add(storeId);
    return true;
  }

  /** Not processed after all: taken again when the authority delivers it again. */
  forgetStored(storeId: number): void {
    this.unacked.delete(storeId);
  }

  get acksWaiting(): boolean {
    return this.acksDue.length > 0;
  }

  /** Acknowledged to the authority (which deletes its copy) only once the history holding it is saved. */
  ackLater(storeId: number): void {
    this.acksDue.push(storeId);
    this.ackTimer ??= setTimeout(() => {
      this.ackTimer = null;
      void this.flushAcks();
    }, 0);
  }

  flushAcks(): Promise<void> {
    this.acking = this.acking.then(async () => {
      if (this.acksDue.length === 0) return;
      const ids = this.acksDue;
      this.acksDue = [];
      try {
        await this.ctx.history!.flush();
      } catch {
        return; // not saved: not acknowledged, the authority delivers them again next session
      }
      for (let i = 0; i < ids.length; i += LIMITS.maxAckIds) {
        const chunk = ids.slice(i, i + LIMITS.maxAckIds);
        const r = await this.ctx.client.call('ackDms', { ids: chunk });
        if (r.ok) {
          for (const id of chunk) this.unacked.delete(id);
        } else {
          this.ctx.log('ack_failed', { code: r.error.code });
          this.acksDue.push(...chunk); // tried again when the session is back
        }
      }
    });
    return this.acking;
  }

  /** No longer friends: nothing more to receipt to them, nothing to relay. */
  forget(username: string): void {
    this.receiptsDue.delete(peerKey(username));
    this.takeUnreceipted(username);
  }

  /** Stops the timers (the engine flushes what is due first). */
  stop(): void {
    if (this.receiptTimer) clearTimeout(this.receiptTimer);
    this.receiptTimer = null;
    if (this.ackTimer) clearTimeout(this.ackTimer);
    this.ackTimer = null;
  }
}
