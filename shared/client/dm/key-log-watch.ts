/**
 * This device's watch over the authority's key log (key transparency, issue 13 §3). A friend's
 * key is accepted only with a proof that the log holds it, under a head signed with the log key
 * this device pinned on first use, and only when that head extends every head this device saw
 * (consistency): a key the authority slips into the directory without logging it is refused,
 * and a log that was rewritten, or shown differently to different people, is caught. The device
 * also reads the log's bindings for its own name: one it did not publish is an alarm (the
 * authority announced another key for this account).
 */
import {
  verifyKeyLogConsistency,
  verifyKeyLogHead,
  verifyKeyLogInclusion,
} from '../../crypto/key-log.js';
import { fail, ok, type KeyLogHead, type KeyLogInclusion, type Outcome, type PublicIdentity } from '../../protocol/index.js';
import type { DmContext } from './context.js';
import type { KeyLogState } from './history.js';
import type { KeyLogAlarm } from './types.js';

function sameHead(a: KeyLogHead, b: KeyLogHead): boolean {
  return a.size === b.size && a.root === b.root && a.at === b.at && a.signature === b.signature;
}

export class KeyLogWatch {
  /** One check of the log at a time: heads and watermarks move in order. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly ctx: DmContext) {}

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private alarm(alarm: KeyLogAlarm): Outcome<never> {
    this.ctx.log('key_log_alarm', { kind: alarm.kind, username: alarm.username ?? null, keyId: alarm.keyId ?? null });
    this.ctx.report('keyLogAlarm', alarm);
    return fail('KEY_NOT_LOGGED', { message: alarm.message });
  }

  /** The state this device keeps, with the log key pinned now if it never was. */
  private async state(): Promise<Outcome<KeyLogState | { publicKey: string; head: null; mineAfter: number }>> {
    const kept = this.ctx.history?.keyLogState();
    if (kept) return ok(kept);
    const r = await this.ctx.client.call('keyLogHead', {});
    if (!r.ok) return r;
    return ok({ publicKey: r.value.publicKey, head: null, mineAfter: -1 });
  }

  /**
   * Moves this device's newest head to `head` once it is proven to extend the one kept (or the
   * kept one to extend it, when the authority answered from an older view). Alarms otherwise.
   */
  private async advance(state: { publicKey: string; head: KeyLogHead | null; mineAfter: number }, head: KeyLogHead): Promise<Outcome<void>> {
    // The head this device already verified and keeps (the usual case: one head per log size,
    // the same for every friend's key fetched at login): its signature is not checked again,
    // the most costly step of all (an Ed25519 verification in JavaScript, milliseconds).
    if (state.head && sameHead(state.head, head)) return ok(undefined);
    if (!verifyKeyLogHead(head, state.publicKey)) {
      return this.alarm({ kind: 'badSignature', message: 'the server sent a key log head its log key did not sign' });
    }
    const kept = state.head;
    if (kept && kept.size === head.size && kept.root !== head.root) {
      return this.alarm({ kind: 'inconsistent', message: `the server signed two different key logs of ${head.size} entries: it is lying to someone` });
    }
    if (kept && kept.size !== head.size) {
      const [older, newer] = kept.size < head.size ? [kept, head] : [head, kept];
      const proof = await this.ctx.client.call('keyLogConsistency', { from: older.size, to: newer.size });
      // Not asked (disconnected, timed out, rate-limited): no verdict either way, and no alarm.
      if (!proof.ok && proof.error.code !== 'BAD_REQUEST') return proof;
      // The server says it has no such proof, or its proof does not hold: that is the verdict.
      if (!proof.ok || !verifyKeyLogConsistency(older, newer, proof.value.path)) {
        return this.alarm({
          kind: 'inconsistent',
          message: `the server's key log of ${head.size} entries does not extend the one of ${kept.size} this device saw: it was rewritten`,
        });
      }
    }
    const newest = kept && kept.size > head.size ? kept : head;
    this.ctx.history?.setKeyLogState({ publicKey: state.publicKey, head: newest, mineAfter: state.mineAfter });
    return ok(undefined);
  }

  /**
   * A head a friend's device saw (gossip, end-to-end encrypted): it must be signed by the log key
   * this device pinned, and it and this device's newest head must be one log (the same root at
   * the same size, or a consistency proof between them). Otherwise the authority showed the two
   * of them different logs: an alarm, on this side (the friend's side checks ours the same way).
   */
  compare(friend: string, head: KeyLogHead): Promise<Outcome<void>> {
    return this.serially(async () => {
      const state = await this.state();
      if (!state.ok) return state;
      if (!verifyKeyLogHead(head, state.value.publicKey)) {
        return this.alarm({
          kind: 'inconsistent',
          username: friend,
          message: `${friend}'s device saw a key log signed with another key than the one this device knows: the server shows you different logs`,
        });
      }
      const checked = await this.advance(state.value, head);
      if (!checked.ok) this.ctx.log('key_log_split_view', { friend, size: head.size });
      return checked;
    });
  }

  /** Accepts `identity` for `username` only with a valid proof that the log holds it (KEY_NOT_LOGGED and an alarm otherwise). */
  accept(username: string, identity: PublicIdentity, log: KeyLogInclusion): Promise<Outcome<void>> {
    return this.serially(async () => {
      const state = await this.state();
      if (!state.ok) return state;
      if (!verifyKeyLogInclusion(username, identity, log.at, log.index, log.path, log.head)) {
        return this.alarm({
          kind: 'unlogged',
          username,
          keyId: identity.keyId,
          message: `the server gave a key for ${username} that its key log does not hold: refused`,
        });
      }
      return this.advance(state.value, log.head);
    });
  }

  /**
   * Reads the log's bindings of my own name logged since the last check; any that is not `myKeyId`
   * is an alarm, once per key (a user's other device publishes its key again at each of its
   * logins, until one identity is shared by a user's devices: the same key is not reported again).
   * The first check only sets the mark (what was logged before this device watched cannot be
   * judged by it).
   */
  checkMine(myKeyId: string): Promise<Outcome<void>> {
    return this.serially(async () => {
      const got = await this.state();
      if (!got.ok) return got;
      let state = got.value;
      const me = this.ctx.me;
      if (!me) return fail('LOCKED');
      const first = state.mineAfter < 0;
      let after = state.mineAfter;
      let result: Outcome<void> = ok(undefined);
      for (;;) {
        const page = await this.ctx.client.call('keyLogMine', { after });
        if (!page.ok) return page;
        for (const { identity, log } of page.value.entries) {
          if (!verifyKeyLogInclusion(me.username, identity, log.at, log.index, log.path, log.head)) {
            return this.alarm({ kind: 'unlogged', username: me.username, message: 'the server sent my own key log entries with proofs that do not verify' });
          }
          const moved = await this.advance(state, log.head);
          if (!moved.ok) return moved;
          state = this.ctx.history?.keyLogState() ?? state;
          const told = identity.keyId === myKeyId || this.ctx.history?.keyLogTold(identity.keyId) === true;
          if (!first && !told && log.index > state.mineAfter) {
            this.ctx.history?.setKeyLogTold(identity.keyId, Date.now());
            result = this.alarm({
              kind: 'unknownBinding',
              username: me.username,
              keyId: identity.keyId,
              message: `the server announced another key for your account (${identity.keyId}), logged ${new Date(log.at).toISOString()}: if it was not one of your devices, your friends may be writing to someone else`,
            });
          }
          after = log.index;
        }
        if (page.value.next === null) break;
        after = page.value.next;
      }
      const latest = this.ctx.history?.keyLogState();
      if (latest) this.ctx.history?.setKeyLogState({ ...latest, mineAfter: Math.max(after, latest.mineAfter) });
      return result;
    });
  }
}
