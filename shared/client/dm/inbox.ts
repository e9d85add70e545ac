/**
 * Incoming envelopes, from a channel or the authority (live or stored), one at a time in
 * arrival order: opened with the friend's pinned key (a pending key's are held for trust),
 * checked against replays (and stale timestamps), written to the local history in the sender's
 * order, receipted, and only then acknowledged to the authority.
 */
import { DmEnvelopeSchema, openEnvelope, ReplayGuard } from '../../crypto/index.js';
import type { DmPath } from '../../protocol/index.js';
import type { DmContext } from './context.js';
import type { Keys } from './keys.js';
import type { KeyLogWatch } from './key-log-watch.js';
import type { Receipts } from './receipts.js';
import { isTransient } from '../retry.js';
import type { DmRecord } from './types.js';
import { recordOfCopy, type DeviceSync } from './device-sync.js';
import { peerKey } from './peer-key.js';

/** The sender key id of an envelope, without opening it. */
function senderKeyId(wire: string): string | null {
  try {
    const parsed = DmEnvelopeSchema.safeParse(JSON.parse(wire));
    return parsed.success ? parsed.data.from : null;
  } catch {
    return null;
  }
}

export class Inbox {
  private readonly guard = new ReplayGuard();
  private incoming: Promise<void> = Promise.resolve();

  constructor(
    private readonly ctx: DmContext,
    private readonly keys: Keys,
    private readonly receipts: Receipts,
    private readonly keyLog: KeyLogWatch,
    private readonly devices: DeviceSync,
  ) {}

  /** Resolves once everything taken so far has been handled. */
  idle(): Promise<void> {
    return this.incoming;
  }

  /** A stored or relayed envelope from the authority (skipped if it is a redelivery not yet acknowledged). */
  fromAuthority(from: string, wire: string, stored: boolean, storeId: number): void {
    if (!this.receipts.noteStored(storeId)) return; // delivered again before our acknowledgement reached the authority
    this.enqueue(from, wire, stored ? 'stored' : 'relayed', storeId);
  }

  /** Incoming envelopes are handled one at a time, in arrival order. */
  enqueue(from: string, wire: string, path: DmPath, storeId?: number): void {
    this.incoming = this.incoming
      .then(() => this.receive(from, wire, path, storeId))
      .catch((err: unknown) => this.ctx.log('receive_failed', { from, error: (err as Error)?.message ?? String(err) }));
  }

  /** No longer friends: their conversation's replay window goes. */
  forget(username: string): void {
    const keys = this.keys.forget(username);
    if (keys) this.guard.forget(keys.conversation);
  }

  private async receive(from: string, wire: string, path: DmPath, storeId?: number): Promise<void> {
    if (!this.ctx.ready) return;
    const history = this.ctx.history!;
    const friend = this.ctx.friend(from);
    const reject = (reason: string) => this.ctx.reject(friend?.username ?? from, reason, path);
    const done = () => {
      if (storeId !== undefined) this.receipts.ackLater(storeId);
    };
    if (this.ctx.me && peerKey(from) === peerKey(this.ctx.me.username)) return this.fromMyDevice(wire, path, done);
    if (!friend) {
      reject('NOT_FRIENDS');
      return done();
    }
    let pin = history.pin(friend.username);
    if (!pin) {
      const fetched = await this.keys.fetch(friend.username);
      if (!fetched.ok && isTransient(fetched.error.code)) {
        if (storeId !== undefined) this.receipts.forgetStored(storeId); // not acknowledged: processed when it comes again
        return;
      }
      pin = history.pin(friend.username);
      if (!pin) {
        reject('UNPINNED_KEY');
        return done();
      }
    }
    let keys = this.keys.channelKeysFor(pin);
    // Opened with a scratch guard so that a replay still tells us its id (to receipt it again).
    let opened = openEnvelope(keys, wire, new ReplayGuard());
    const sender = !opened.ok && opened.reason === 'UNPINNED_KEY' ? senderKeyId(wire) : null;
    if (sender) {
      if (pin.pending?.keyId !== sender) {
        await this.keys.fetch(friend.username); // perhaps changed without our hearing of it
        pin = history.pin(friend.username)!;
      }
      if (pin.pending?.keyId === sender) {
        // From the friend's new key: kept (and not acknowledged) until the user trusts it.
        this.keys.hold(pin, { wire, path, storeId });
        reject('UNPINNED_KEY');
        return;
      }
      keys = this.keys.channelKeysFor(pin);
      opened = openEnvelope(keys, wire, new ReplayGuard());
    }
    if (!opened.ok) {
      reject(opened.reason);
      return done();
    }
    const message = opened.message;
    const verdict = this.guard.admit(keys.conversation, message.id, message.ts);
    if (verdict === 'STALE') {
      reject('STALE');
      return done();
    }
    if (message.body.kind === 'receipt') {
      if (verdict === null) this.receipts.onReceipt(friend.username, message.body.ids);
      else reject(verdict);
      return done();
    }
    if (message.body.kind === 'logHead') {
      if (verdict === null) void this.keyLog.compare(friend.username, message.body.head);
      else reject(verdict);
      return done();
    }
    if (message.body.kind !== 'text') {
      reject('MALFORMED'); // copies and histories come from my own devices only
      return done();
    }
    const record: DmRecord = {
      id: message.id,
      peer: friend.username,
      direction: 'in',
      author: friend.username,
      text: message.body.text,
      ts: message.ts,
      path,
      status: 'received',
    };
    const fresh = verdict === null && history.insert(record, Date.now());
    // A copy is receipted too: the sender may have missed the first receipt.
    this.receipts.receiptLater(friend.username, message.id);
    if (!fresh) {
      reject('REPLAYED');
      return done();
    }
    this.ctx.report('received', record);
    // My other devices get what came over a direct channel from me (the relay reached them itself).
    if (path === 'direct') this.devices.copy(record);
    done();
  }

  /**
   * A copy of a DM from another of my devices, sealed to my own key: into the history as if this
   * device had sent or received it (once: a copy of a DM already here changes nothing).
   */
  private fromMyDevice(wire: string, path: DmPath, done: () => void): void {
    const keys = this.devices.keysForMe();
    const opened = keys ? openEnvelope(keys, wire, new ReplayGuard()) : null;
    const me = this.ctx.me!.username;
    if (!opened?.ok || opened.message.body.kind !== 'sync') {
      this.ctx.reject(me, opened && !opened.ok ? opened.reason : 'MALFORMED', path);
      return done();
    }
    const body = opened.message.body;
    const record = recordOfCopy(me, { ...opened.message, body });
    const out = body.direction === 'out';
    if (this.ctx.history!.insert(record, Date.now())) this.ctx.report(out ? 'status' : 'received', record);
    done();
  }
}
