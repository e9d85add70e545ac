/**
 * Friends' keys and trust: a friend's key is pinned the first time it is seen (trust on first
 * use); a different key afterwards is kept pending and blocks sending to that friend until the
 * user accepts it (trust), after comparing safety numbers. Envelopes from a pending key are held
 * here, unopened, until then. Also the per-friend channel keys (nacl.box precomputed).
 */
import {
  createChannelKeys,
  publicIdentity,
  safetyNumber,
  verifyPublicIdentity,
  type ChannelKeys,
} from '../../crypto/index.js';
import { fail, ok, type DmPath, type Outcome, type PublicIdentity } from '../../protocol/index.js';
import type { DmContext } from './context.js';
import type { Pin } from './history.js';
import type { KeyLogWatch } from './key-log-watch.js';
import { peerKey } from './peer-key.js';
import { DM_DEFAULTS } from './types.js';

/** An envelope from a friend's changed key, kept (and not acknowledged) until it is trusted. */
export interface HeldEnvelope {
  wire: string;
  path: DmPath;
  storeId?: number;
}

export interface SafetyNumbers {
  username: string;
  safetyNumber: string;
  keyId: string;
  pending: { safetyNumber: string; keyId: string } | null;
}

export interface Trusted {
  username: string;
  keyId: string;
  changed: boolean;
  safetyNumber: string;
}

export class Keys {
  private readonly channelKeys = new Map<string, ChannelKeys>();
  private readonly held = new Map<string, HeldEnvelope[]>();

  constructor(
    private readonly ctx: DmContext,
    private readonly watch: KeyLogWatch,
    private readonly hooks: {
      /** A friend's key changed: their channel, sealed to the old key's owner, must go. */
      keyChanged(username: string): void;
      /** A changed key was trusted: what it sent meanwhile can be opened now. */
      released(username: string, held: HeldEnvelope[]): void;
    },
  ) {}

  /** Fetches every friend's key (a few at a time) and pins or checks it. */
  async pinFriends(): Promise<void> {
    const friends = this.ctx.client.friends.filter((f) => f.state === 'friends');
    for (let i = 0; i < friends.length; i += DM_DEFAULTS.keyFetchConcurrency) {
      const batch = friends.slice(i, i + DM_DEFAULTS.keyFetchConcurrency);
      await Promise.all(batch.map((f) => this.fetch(f.username)));
    }
  }

  /** Fetches a friend's key, accepted only with the key log's proof (key-log-watch.ts), then pins or checks it. */
  async fetch(username: string): Promise<Outcome<Pin>> {
    const r = await this.ctx.client.call('fetchKeys', { username });
    if (!r.ok) return r;
    if (!this.ctx.ready) return fail('CLOSED');
    const logged = await this.watch.accept(username, r.value.identity, r.value.log);
    if (!logged.ok) return logged;
    if (!this.ctx.ready) return fail('CLOSED');
    return this.consider(username, r.value.identity);
  }

  /** Trust on first use; a different key afterwards blocks sending until trust(). */
  consider(username: string, identity: PublicIdentity): Outcome<Pin> {
    const history = this.ctx.history!;
    if (!verifyPublicIdentity(identity)) {
      this.ctx.log('bad_friend_key', { from: username });
      return fail('INVALID_KEYS');
    }
    const now = Date.now();
    const pin = history.pin(username);
    if (!pin) {
      history.setPin(username, identity, now);
      this.ctx.report('keyPinned', { username, keyId: identity.keyId, firstUse: true });
      return ok(history.pin(username)!);
    }
    if (pin.identity.keyId === identity.keyId) {
      if (pin.pending) history.setPending(username, null, now); // back to the key already trusted
      return ok(history.pin(username)!);
    }
    if (pin.pending?.keyId === identity.keyId) return fail('KEY_CHANGED');
    history.setPending(username, identity, now);
    this.hooks.keyChanged(username);
    this.ctx.report('keyChanged', {
      username: pin.username,
      pinnedKeyId: pin.identity.keyId,
      newKeyId: identity.keyId,
      safetyNumber: this.safetyWith(pin.username, identity),
    });
    this.ctx.log('friend_key_changed', { from: pin.username });
    return fail('KEY_CHANGED');
  }

  /** The pin to seal a DM with: fetched on first use, refused while a changed key waits. */
  async forSending(username: string): Promise<Outcome<Pin>> {
    const pin = this.ctx.history!.pin(username);
    if (pin?.pending) return fail('KEY_CHANGED');
    if (pin) return ok(pin);
    return this.fetch(username);
  }

  /** The channel keys with a friend's pinned key (computed once per key). */
  channelKeysFor(pin: Pin): ChannelKeys {
    const cached = this.channelKeys.get(pin.peer);
    if (cached && cached.theirKeyId === pin.identity.keyId) return cached;
    const keys = createChannelKeys(this.ctx.me!, { username: pin.username, identity: pin.identity });
    this.channelKeys.set(pin.peer, keys);
    return keys;
  }

  private safetyWith(username: string, identity: PublicIdentity): string {
    const me = this.ctx.me!;
    return safetyNumber({ username: me.username, identity: publicIdentity(me.identity) }, { username, identity });
  }

  /**
   * The safety number with a friend's pinned key (pinning it on first use), and with the
   * changed key waiting for trust if there is one. Both people see the same digits.
   */
  async safetyNumber(username: string): Promise<Outcome<SafetyNumbers>> {
    const history = this.ctx.history!;
    const friend = this.ctx.friend(username);
    if (friend) {
      // Fetched again so that a change the authority did not announce to us shows up here too.
      const fetched = await this.fetch(friend.username);
      if (!fetched.ok && fetched.error.code !== 'KEY_CHANGED' && !history.pin(username)) return fetched;
    }
    const pin = history.pin(username);
    if (!pin) return fail(friend ? 'NO_KEYS' : 'NOT_FRIENDS');
    return ok({
      username: pin.username,
      safetyNumber: this.safetyWith(pin.username, pin.identity),
      keyId: pin.identity.keyId,
      pending: pin.pending ? { safetyNumber: this.safetyWith(pin.username, pin.pending), keyId: pin.pending.keyId } : null,
    });
  }

  /** Accepts a friend's changed key (after comparing safety numbers): sending is unblocked. */
  async trust(username: string): Promise<Outcome<Trusted>> {
    const history = this.ctx.history!;
    let pin = history.pin(username);
    if (!pin?.pending) {
      const fetched = await this.fetch(this.ctx.friend(username)?.username ?? username);
      if (!fetched.ok && fetched.error.code !== 'KEY_CHANGED') return fetched;
      pin = history.pin(username);
      if (!pin) return fail('NO_KEYS');
      if (!pin.pending) {
        return ok({ username: pin.username, keyId: pin.identity.keyId, changed: false, safetyNumber: this.safetyWith(pin.username, pin.identity) });
      }
    }
    const accepted = pin.pending!;
    history.setPin(pin.username, accepted, Date.now());
    this.channelKeys.delete(pin.peer);
    this.ctx.report('keyPinned', { username: pin.username, keyId: accepted.keyId, firstUse: false });
    const held = this.held.get(pin.peer) ?? [];
    this.held.delete(pin.peer);
    this.hooks.released(pin.username, held);
    await history.flush();
    return ok({ username: pin.username, keyId: accepted.keyId, changed: true, safetyNumber: this.safetyWith(pin.username, accepted) });
  }

  /** True while sending to this friend is blocked by a changed key. */
  isBlocked(username: string): boolean {
    return this.ctx.history?.pin(username)?.pending != null;
  }

  /** Keeps an envelope from the friend's pending key until trust (a bounded number per friend). */
  hold(pin: Pin, envelope: HeldEnvelope): void {
    const held = this.held.get(pin.peer) ?? [];
    if (held.length < DM_DEFAULTS.maxHeldPerFriend) held.push(envelope);
    this.held.set(pin.peer, held);
  }

  /** No longer friends: what was held goes; returns the channel keys there were, if any. */
  forget(username: string): ChannelKeys | undefined {
    const key = peerKey(username);
    this.held.delete(key);
    return this.channelKeys.get(key);
  }
}
