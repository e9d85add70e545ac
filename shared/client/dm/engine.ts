/**
 * The DM engine: end-to-end encrypted direct messages between friends, peer-to-peer when it
 * can be, through the authority when it cannot.
 *
 *   send(friend, text)
 *     → sealed once with the friend's pinned key (nacl.box, precomputed shared key)
 *     → over the open data channel                                        path "direct"
 *     → else a channel is opened within a bounded time, then over it      path "direct"
 *     → else the same envelope through the authority: live if the friend
 *       is online, stored until they connect if not                      path "relayed" | "stored"
 *     → the friend's encrypted receipt marks it "delivered"
 *
 * Keys: the device identity is made at the first login and sealed under the password; it is
 * published after every login. A friend's key is pinned the first time it is seen; if it ever
 * changes, sending to that friend is blocked (keyChanged) until the user accepts it (trust).
 *
 * Incoming envelopes are opened with the pinned key, checked against replays, written to the
 * encrypted local history, and only then acknowledged to the authority (which then deletes them).
 * Open data channels do not depend on the authority: they keep working while it is down.
 */
import {
  createChannelKeys,
  DmBodySchema,
  DmEnvelopeSchema,
  MAX_RECEIPT_IDS,
  openEnvelope,
  publicIdentity,
  ReplayGuard,
  safetyNumber,
  sealEnvelope,
  verifyPublicIdentity,
  type ChannelKeys,
  type DeviceIdentity,
} from '../../crypto/index.js';
import {
  fail,
  failure,
  LIMITS,
  type DmPath,
  type Failure,
  type FriendInfo,
  type Outcome,
  type PublicIdentity,
  type ServerEvent,
} from '../../protocol/index.js';
import { newClientId, type ChandlerClient } from '../client.js';
import { Emitter } from '../emitter.js';
import { isTransient, rateLimitDelay, RETRY_POLICY } from '../retry.js';
import { historyName, saveIdentity, unlockIdentity } from './device-identity.js';
import { DmHistory, historyKeyFrom, type HistoryExport, type Pin } from './history.js';
import { PeerLink, type LinkCloseReason } from './peer-link.js';
import { initiatesWith, SIGNAL_VERSION, SignalMessage } from './signal.js';
import {
  DM_DEFAULTS,
  type DmEngineEvents,
  type DmEngineOptions,
  type DmRecord,
} from './types.js';

export type EngineState = 'locked' | 'unlocking' | 'ready' | 'closed';

interface HeldEnvelope {
  wire: string;
  path: DmPath;
  storeId?: number;
}

/** The sender key id of an envelope, without opening it. */
function senderKeyId(wire: string): string | null {
  try {
    const parsed = DmEnvelopeSchema.safeParse(JSON.parse(wire));
    return parsed.success ? parsed.data.from : null;
  } catch {
    return null;
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class DmEngine extends Emitter<DmEngineEvents> {
  state: EngineState = 'locked';
  /** Names this engine in signaling, so that a user's other sessions ignore what is not for them. */
  readonly sessionId = newClientId();
  private me: { username: string; identity: DeviceIdentity } | null = null;
  private history: DmHistory | null = null;
  private readonly guard = new ReplayGuard();
  private readonly links = new Map<string, PeerLink>();
  private readonly keysCache = new Map<string, ChannelKeys>();
  private readonly held = new Map<string, HeldEnvelope[]>();
  private readonly directFailedAt = new Map<string, number>();
  private readonly sendChains = new Map<string, Promise<unknown>>();
  private readonly inFlight = new Set<string>();
  /** Sent over a channel, no receipt yet: relayed if that channel closes first. */
  private readonly unreceipted = new Map<string, { peer: string; id: string; wire: string }>();
  private readonly lastTs = new Map<string, number>();
  private readonly receiptsDue = new Map<string, Set<string>>();
  private receiptTimer: ReturnType<typeof setTimeout> | null = null;
  private acksDue: number[] = [];
  /** Stored-envelope ids received and not yet acknowledged: a redelivery of one is skipped. */
  private readonly unacked = new Set<number>();
  private ackTimer: ReturnType<typeof setTimeout> | null = null;
  private acking: Promise<void> = Promise.resolve();
  private incoming: Promise<void> = Promise.resolve();
  private queuedEvents: ServerEvent[] = [];
  private readonly offClient: (() => void)[];
  private readonly directTimeoutMs: number;
  private readonly directRetryAfterMs: number;

  constructor(
    private readonly client: ChandlerClient,
    private readonly options: DmEngineOptions,
  ) {
    super();
    this.directTimeoutMs = options.directTimeoutMs ?? DM_DEFAULTS.directTimeoutMs;
    this.directRetryAfterMs = options.directRetryAfterMs ?? DM_DEFAULTS.directRetryAfterMs;
    this.offClient = [
      client.on('event', (e) => this.onServerEvent(e)),
      client.on('status', (s) => {
        if (s === 'ready' && this.state === 'ready') void this.onSessionReady();
      }),
    ];
  }

  get username(): string | null {
    return this.me?.username ?? null;
  }

  get keyId(): string | null {
    return this.me?.identity.keyId ?? null;
  }

  // ---------- lifecycle ----------

  /**
   * Opens (or, on the first login on this device, creates) the device identity with the
   * password the user just logged in with, opens the local history, publishes the public
   * identity and pins friends' keys. Call it after every login.
   */
  async unlock(password: string): Promise<Outcome<{ keyId: string; created: boolean }>> {
    if (this.state === 'closed') return fail('CLOSED');
    if (this.state === 'ready') return { ok: true, value: { keyId: this.me!.identity.keyId, created: false } };
    if (this.state === 'unlocking') return fail('BUSY', { message: 'already unlocking' });
    const username = this.client.username;
    if (!username) return fail('LOCKED');
    this.state = 'unlocking';
    try {
      const { storage } = this.options;
      const unlocked = await unlockIdentity(storage, username, password, { kdfN: this.options.kdfN });
      const identity = unlocked.identity;
      const signSeed = identity.sign.secretKey.subarray(0, 32);
      const opened = await DmHistory.open({
        sql: await this.options.loadSql(),
        storage,
        name: historyName(username),
        key: historyKeyFrom(identity.box.secretKey, signSeed),
        saveDelayMs: DM_DEFAULTS.saveDelayMs,
        onSaveError: (err) => this.warn('HISTORY_SAVE_FAILED', `the DM history could not be saved: ${(err as Error)?.message ?? err}`),
      });
      if ((this.state as EngineState) === 'closed') {
        await opened.history.close();
        return fail('CLOSED');
      }
      this.me = { username, identity };
      this.history = opened.history;
      this.state = 'ready';
      if (unlocked.created) this.emit('identityCreated', { keyId: identity.keyId, replaced: unlocked.setAside !== null });
      if (unlocked.setAside) {
        this.warn('IDENTITY_REPLACED', `the keys on this device could not be opened with this password; kept as ${unlocked.setAside}`);
      }
      if (opened.setAside) {
        this.warn('HISTORY_UNREADABLE', `the DM history on this device could not be read; kept as ${opened.setAside}`);
      }
      await this.onSessionReady();
      const queued = this.queuedEvents;
      this.queuedEvents = [];
      for (const e of queued) this.onServerEvent(e);
      // Whatever waited at the authority before this engine listened: ask for it again. Its
      // first batch comes before the reply, so once the reply is in, it is all queued: wait
      // for it, so that whoever unlocked sees the waiting DMs in the history at once.
      await this.client.call('resendStoredDms', {});
      await this.incoming;
      return { ok: true, value: { keyId: identity.keyId, created: unlocked.created } };
    } catch (err) {
      if ((this.state as EngineState) !== 'closed') this.state = 'locked';
      return fail('INTERNAL', { message: `cannot unlock direct messages: ${(err as Error)?.message ?? String(err)}`, cause: err });
    }
  }

  /** Re-seals the device identity under a new password (call it after a password change). */
  async changePassword(newPassword: string): Promise<Outcome<void>> {
    if (this.state !== 'ready' || !this.me) return fail('LOCKED');
    await saveIdentity(this.options.storage, this.me.username, this.me.identity, newPassword, this.options.kdfN);
    return { ok: true, value: undefined };
  }

  /** Closes every channel, saves the history and stops. Idempotent. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    const wasReady = this.state === 'ready';
    this.state = 'closed';
    for (const off of this.offClient) off();
    if (this.receiptTimer) clearTimeout(this.receiptTimer);
    this.receiptTimer = null;
    if (wasReady) {
      // Receipts still due go out (over the channels, else the relay) before everything closes.
      await this.incoming;
      await this.flushReceipts();
      await this.flushAcks();
    }
    for (const link of [...this.links.values()]) link.destroy('ENGINE_CLOSED');
    if (this.ackTimer) clearTimeout(this.ackTimer);
    await this.history?.close();
  }

  private async onSessionReady(): Promise<void> {
    const me = this.me;
    if (!me || this.state !== 'ready') return;
    const published = await this.client.call('publishKeys', { identity: publicIdentity(me.identity) });
    if (!published.ok) this.log('publish_keys_failed', { code: published.error.code });
    await this.pinFriends();
    this.retryUnsent();
    if (this.acksDue.length > 0) void this.flushAcks();
  }

  private async pinFriends(): Promise<void> {
    const friends = this.client.friends.filter((f) => f.state === 'friends');
    for (let i = 0; i < friends.length; i += DM_DEFAULTS.keyFetchConcurrency) {
      const batch = friends.slice(i, i + DM_DEFAULTS.keyFetchConcurrency);
      await Promise.all(batch.map((f) => this.fetchKeys(f.username)));
    }
  }

  // ---------- keys and trust ----------

  private friend(name: string): FriendInfo | null {
    const lower = name.toLowerCase();
    return this.client.friends.find((f) => f.state === 'friends' && f.username.toLowerCase() === lower) ?? null;
  }

  private async fetchKeys(username: string): Promise<Outcome<Pin>> {
    const r = await this.client.call('fetchKeys', { username });
    if (!r.ok) return { ok: false, error: r.error };
    if (this.state !== 'ready') return fail('CLOSED');
    return this.considerKey(username, r.value.identity);
  }

  /** Trust on first use; a different key afterwards blocks sending until trust(). */
  private considerKey(username: string, identity: PublicIdentity): Outcome<Pin> {
    const history = this.history!;
    if (!verifyPublicIdentity(identity)) {
      this.log('bad_friend_key', { from: username });
      return fail('INVALID_KEYS');
    }
    const now = Date.now();
    const pin = history.pin(username);
    if (!pin) {
      history.setPin(username, identity, now);
      this.emit('keyPinned', { username, keyId: identity.keyId, firstUse: true });
      return { ok: true, value: history.pin(username)! };
    }
    if (pin.identity.keyId === identity.keyId) {
      if (pin.pending) history.setPending(username, null, now); // back to the key already trusted
      return { ok: true, value: history.pin(username)! };
    }
    if (pin.pending?.keyId === identity.keyId) return fail('KEY_CHANGED');
    history.setPending(username, identity, now);
    this.links.get(username.toLowerCase())?.destroy('KEY_CHANGED');
    this.emit('keyChanged', {
      username: pin.username,
      pinnedKeyId: pin.identity.keyId,
      newKeyId: identity.keyId,
      safetyNumber: this.safetyWith(pin.username, identity),
    });
    this.log('friend_key_changed', { from: pin.username });
    return fail('KEY_CHANGED');
  }

  private keysFor(pin: Pin): ChannelKeys {
    const cached = this.keysCache.get(pin.peer);
    if (cached && cached.theirKeyId === pin.identity.keyId) return cached;
    const keys = createChannelKeys(this.me!, { username: pin.username, identity: pin.identity });
    this.keysCache.set(pin.peer, keys);
    return keys;
  }

  private safetyWith(username: string, identity: PublicIdentity): string {
    const me = this.me!;
    return safetyNumber({ username: me.username, identity: publicIdentity(me.identity) }, { username, identity });
  }

  /**
   * The safety number with a friend's pinned key (pinning it on first use), and with the
   * changed key waiting for trust if there is one. Both people see the same digits.
   */
  async safetyNumber(
    username: string,
  ): Promise<Outcome<{ username: string; safetyNumber: string; keyId: string; pending: { safetyNumber: string; keyId: string } | null }>> {
    if (this.state !== 'ready') return fail('LOCKED');
    const friend = this.friend(username);
    if (friend) {
      // Fetched again so that a change the authority did not announce to us shows up here too.
      const fetched = await this.fetchKeys(friend.username);
      if (!fetched.ok && fetched.error.code !== 'KEY_CHANGED' && !this.history!.pin(username)) return fetched;
    }
    const pin = this.history!.pin(username);
    if (!pin) return fail(friend ? 'NO_KEYS' : 'NOT_FRIENDS');
    return {
      ok: true,
      value: {
        username: pin.username,
        safetyNumber: this.safetyWith(pin.username, pin.identity),
        keyId: pin.identity.keyId,
        pending: pin.pending
          ? { safetyNumber: this.safetyWith(pin.username, pin.pending), keyId: pin.pending.keyId }
          : null,
      },
    };
  }

  /** Accepts a friend's changed key (after comparing safety numbers): sending is unblocked. */
  async trust(username: string): Promise<Outcome<{ username: string; keyId: string; changed: boolean; safetyNumber: string }>> {
    if (this.state !== 'ready') return fail('LOCKED');
    const history = this.history!;
    let pin = history.pin(username);
    if (!pin?.pending) {
      const fetched = await this.fetchKeys(this.friend(username)?.username ?? username);
      if (!fetched.ok && fetched.error.code !== 'KEY_CHANGED') return fetched;
      pin = history.pin(username);
      if (!pin) return fail('NO_KEYS');
      if (!pin.pending) {
        return { ok: true, value: { username: pin.username, keyId: pin.identity.keyId, changed: false, safetyNumber: this.safetyWith(pin.username, pin.identity) } };
      }
    }
    const accepted = pin.pending!;
    history.setPin(pin.username, accepted, Date.now());
    this.keysCache.delete(pin.peer);
    this.emit('keyPinned', { username: pin.username, keyId: accepted.keyId, firstUse: false });
    const held = this.held.get(pin.peer) ?? [];
    this.held.delete(pin.peer);
    for (const h of held) this.enqueueIncoming(pin.username, h.wire, h.path, h.storeId);
    await history.flush();
    return {
      ok: true,
      value: { username: pin.username, keyId: accepted.keyId, changed: true, safetyNumber: this.safetyWith(pin.username, accepted) },
    };
  }

  /** True while sending to this friend is blocked by a changed key. */
  isBlocked(username: string): boolean {
    return this.history?.pin(username)?.pending != null;
  }

  // ---------- sending ----------

  /**
   * Sends a DM. Resolves once it has left by a path (direct, relayed, stored), or is queued
   * until the authority is reachable again; a later `status` event reports the receipt.
   * Refused at once, and not recorded, when the friend's key changed (KEY_CHANGED).
   */
  async send(to: string, text: string): Promise<Outcome<DmRecord>> {
    if (this.state !== 'ready' || !this.me) return fail(this.state === 'closed' ? 'CLOSED' : 'LOCKED');
    const friend = this.friend(to);
    if (!friend) return fail('NOT_FRIENDS');
    const body = DmBodySchema.safeParse({ kind: 'text', text });
    if (!body.success) return fail(text.length > LIMITS.maxMessageChars ? 'TEXT_TOO_LONG' : 'INVALID_TEXT');
    const ready = await this.pinForSending(friend.username);
    if (!ready.ok) return ready;
    const peer = friend.username;
    const record: DmRecord = {
      id: newClientId(),
      peer,
      direction: 'out',
      author: this.me.username,
      text,
      ts: this.nextTs(peer),
      path: null,
      status: 'sending',
    };
    this.history!.insert(record, Date.now());
    this.emit('status', { ...record });
    return this.enqueueSend(record);
  }

  private async pinForSending(username: string): Promise<Outcome<Pin>> {
    const pin = this.history!.pin(username);
    if (pin?.pending) return fail('KEY_CHANGED');
    if (pin) return { ok: true, value: pin };
    return this.fetchKeys(username);
  }

  /** Sender timestamps strictly increase per conversation: they are its order on both sides. */
  private nextTs(peer: string): number {
    const lower = peer.toLowerCase();
    const last = this.lastTs.get(lower) ?? this.history!.lastOutgoingTs(lower);
    const ts = Math.max(Date.now(), last + 1);
    this.lastTs.set(lower, ts);
    return ts;
  }

  /** One conversation sends in order: a DM waits for the one before it to leave. */
  private enqueueSend(record: DmRecord): Promise<Outcome<DmRecord>> {
    const lower = record.peer.toLowerCase();
    this.inFlight.add(record.id);
    const previous = this.sendChains.get(lower) ?? Promise.resolve();
    const next = previous.then(() => this.deliver(record)).finally(() => this.inFlight.delete(record.id));
    this.sendChains.set(lower, next.catch(() => undefined));
    return next;
  }

  private setStatus(record: DmRecord, patch: Partial<Pick<DmRecord, 'status' | 'path' | 'error'>>): DmRecord {
    Object.assign(record, patch);
    if (patch.status && patch.status !== 'failed') delete record.error;
    if (this.state === 'ready') this.history!.update(record);
    this.emit('status', { ...record });
    return record;
  }

  private failRecord(record: DmRecord, error: Failure): Outcome<DmRecord> {
    this.setStatus(record, { status: 'failed', error });
    return { ok: false, error };
  }

  private async deliver(record: DmRecord): Promise<Outcome<DmRecord>> {
    if (this.state !== 'ready') return fail('CLOSED');
    if (!this.friend(record.peer)) return this.failRecord(record, failure('NOT_FRIENDS'));
    const pin = this.history!.pin(record.peer);
    if (!pin) return this.failRecord(record, failure('NO_KEYS'));
    if (pin.pending) return this.failRecord(record, failure('KEY_CHANGED'));
    const wire = sealEnvelope(this.keysFor(pin), { id: record.id, ts: record.ts, body: { kind: 'text', text: record.text } });
    if (await this.tryDirect(record.peer)) {
      const link = this.links.get(record.peer.toLowerCase());
      if (link?.send(wire)) {
        this.unreceipted.set(record.id, { peer: record.peer, id: record.id, wire });
        return { ok: true, value: { ...this.setStatus(record, { status: 'sent', path: 'direct' }) } };
      }
    }
    return this.relay(record, wire);
  }

  private async relay(record: DmRecord, wire: string): Promise<Outcome<DmRecord>> {
    let keysRefreshed = false;
    for (let waits = 0; ; waits++) {
      if (this.state !== 'ready') return fail('CLOSED');
      const r = await this.client.call('relayDm', { to: record.peer, envelope: wire });
      if (r.ok) return { ok: true, value: { ...this.setStatus(record, { status: 'sent', path: r.value.path }) } };
      const code = r.error.code;
      if (code === 'RATE_LIMITED' && waits < RETRY_POLICY.maxRateLimitWaits) {
        await sleep(rateLimitDelay(r.error));
        continue;
      }
      if (code === 'INVALID_KEYS' && !keysRefreshed && this.me) {
        // Our published key or the friend's is not the one sealed with: publish ours, recheck theirs.
        keysRefreshed = true;
        await this.client.call('publishKeys', { identity: publicIdentity(this.me.identity) });
        const theirs = await this.fetchKeys(record.peer);
        if (!theirs.ok && theirs.error.code === 'KEY_CHANGED') return this.failRecord(record, theirs.error);
        continue;
      }
      if (isTransient(code) || code === 'RATE_LIMITED') {
        // Kept and sent again when the session is back (same id: the friend never shows it twice).
        this.setStatus(record, { status: 'queued' });
        return { ok: true, value: { ...record } };
      }
      return this.failRecord(record, r.error);
    }
  }

  /** Sends what is queued or was interrupted (a previous run, a lost session). */
  private retryUnsent(): void {
    if (this.state !== 'ready') return;
    for (const record of this.history!.unsent()) {
      // Sending now, or over a channel of this session that is still open (relayed if it closes).
      if (this.inFlight.has(record.id) || this.unreceipted.has(record.id)) continue;
      void this.enqueueSend(record);
    }
  }

  // ---------- data channels ----------

  /** Is a channel open with this friend, or can one be opened in time? */
  private async tryDirect(peer: string): Promise<boolean> {
    const lower = peer.toLowerCase();
    const link = this.links.get(lower);
    if (link?.state === 'open') return true;
    if (!this.options.createPeer || this.client.status !== 'ready') return false;
    if (!this.friend(peer)?.online) return false;
    const failedAt = this.directFailedAt.get(lower);
    if (failedAt !== undefined && Date.now() - failedAt < this.directRetryAfterMs) return false;
    const opened = link?.state === 'connecting' ? await link.opened : await this.openChannel(peer);
    if (!opened) this.directFailedAt.set(lower, Date.now());
    return opened && this.links.get(lower)?.state === 'open';
  }

  private async openChannel(peer: string): Promise<boolean> {
    if (initiatesWith(this.me!.username, peer)) return this.newLink(peer, true, null).opened;
    // The friend initiates (glare rule): ask them to, then wait for their channel to open.
    const waiting = this.waitForChannel(peer, this.directTimeoutMs);
    const knocked = await this.client.call('sendSignal', { to: peer, data: { v: SIGNAL_VERSION, kind: 'knock', sid: this.sessionId } });
    if (!knocked.ok) {
      waiting.cancel();
      return false;
    }
    return waiting.result;
  }

  private waitForChannel(peer: string, timeoutMs: number): { result: Promise<boolean>; cancel(): void } {
    const lower = peer.toLowerCase();
    let finish: (open: boolean) => void = () => undefined;
    const result = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => finish(false), timeoutMs);
      const off = this.on('channel', (c) => {
        if (c.username.toLowerCase() === lower && c.state === 'open') finish(true);
      });
      finish = (open) => {
        clearTimeout(timer);
        off();
        resolve(open);
      };
    });
    return { result, cancel: () => finish(false) };
  }

  private newLink(peer: string, initiator: boolean, remoteSid: string | null): PeerLink {
    const lower = peer.toLowerCase();
    this.links.get(lower)?.destroy('REPLACED');
    const session = this.client.session;
    const link = new PeerLink({
      username: peer,
      initiator,
      remoteSid,
      createPeer: this.options.createPeer!,
      config: { iceServers: session?.iceServers ?? [], ...this.options.rtcConfig },
      connectTimeoutMs: this.directTimeoutMs,
      onSignal: (l, data) => this.sendRtcSignal(l, data),
      onMessage: (l, text) => {
        if (this.links.get(lower) !== l) return;
        if (text === null) return this.reject(l.username, 'MALFORMED', 'direct');
        this.enqueueIncoming(l.username, text, 'direct');
      },
      onOpen: (l) => {
        this.directFailedAt.delete(lower);
        this.emit('channel', { username: l.username, state: 'open' });
      },
      onClose: (l, reason, cause) => this.onLinkClosed(l, reason, cause),
    });
    this.links.set(lower, link);
    if (link.state === 'connecting') this.emit('channel', { username: peer, state: 'connecting' });
    return link;
  }

  private sendRtcSignal(link: PeerLink, rtc: unknown): void {
    const data = { v: SIGNAL_VERSION, kind: 'rtc', sid: this.sessionId, to: link.remoteSid ?? undefined, rtc };
    void this.client.call('sendSignal', { to: link.username, data }).then((r) => {
      if (!r.ok) {
        this.log('signal_failed', { to: link.username, code: r.error.code });
        link.destroy('SIGNAL_FAILED');
      }
    });
  }

  private onLinkClosed(link: PeerLink, reason: LinkCloseReason, cause?: unknown): void {
    const lower = link.username.toLowerCase();
    if (this.links.get(lower) === link) {
      this.links.delete(lower);
      this.emit('channel', { username: link.username, state: 'closed' });
    }
    if (reason === 'PEER_ERROR') {
      this.log('channel_failed', { with: link.username, error: (cause as Error | undefined)?.message ?? String(cause) });
      this.reject(link.username, 'PEER_ERROR', 'signal');
    }
    if (reason === 'ENGINE_CLOSED' || reason === 'UNFRIENDED' || reason === 'KEY_CHANGED' || this.state !== 'ready') return;
    // What went over the channel without a receipt may be lost with it: send it again by the
    // authority (same envelope, same id: the friend drops the copy if the first one arrived).
    for (const [id, sent] of [...this.unreceipted]) {
      if (sent.peer.toLowerCase() !== lower) continue;
      this.unreceipted.delete(id);
      const record = this.history!.get(sent.peer, sent.id);
      if (!record || record.status === 'delivered') continue;
      void this.relay(record, sent.wire);
    }
  }

  private onSignal(from: string, data: unknown): void {
    const friend = this.friend(from);
    if (!friend) return this.reject(from, 'NOT_FRIENDS', 'signal');
    const parsed = SignalMessage.safeParse(data);
    if (!parsed.success) {
      this.reject(friend.username, 'BAD_SIGNAL', 'signal');
      return;
    }
    const m = parsed.data;
    if (m.sid === this.sessionId || !this.options.createPeer) return;
    if (m.kind === 'rtc' && m.to !== undefined && m.to !== this.sessionId) return; // for another session of mine
    const lower = friend.username.toLowerCase();
    const link = this.links.get(lower);
    const initiator = initiatesWith(this.me!.username, friend.username);
    if (m.kind === 'knock') {
      if (!initiator) return this.reject(friend.username, 'BAD_SIGNAL', 'signal');
      if (link && link.remoteSid === m.sid) return; // already connecting or connected to that session
      this.newLink(friend.username, true, m.sid);
      return;
    }
    const rtc = m.rtc;
    if (initiator) {
      if (rtc.type === 'offer') return this.reject(friend.username, 'BAD_SIGNAL', 'signal'); // the glare rule says we offer
      if (!link || !link.initiator || link.state === 'closed') return;
      if (link.remoteSid === null) {
        if (m.to !== this.sessionId) return;
        link.remoteSid = m.sid; // the first session to answer gets the channel
      }
      if (link.remoteSid === m.sid) link.signal(rtc);
      return;
    }
    if (rtc.type === 'offer') {
      this.newLink(friend.username, false, m.sid).signal(rtc);
    } else if (rtc.type === 'answer') {
      this.reject(friend.username, 'BAD_SIGNAL', 'signal');
    } else if (link && !link.initiator && link.remoteSid === m.sid) {
      link.signal(rtc);
    }
  }

  /** Open data channels, by friend. */
  channelState(username: string): 'open' | 'connecting' | 'closed' {
    return this.links.get(username.toLowerCase())?.state ?? 'closed';
  }

  // ---------- receiving ----------

  private onServerEvent(e: ServerEvent): void {
    if (this.state === 'closed') return;
    if (this.state !== 'ready') {
      // Kept until unlocked; anything beyond the bound stays stored at the authority (not acknowledged).
      if ((e.ev === 'dmReceived' || e.ev === 'keysChanged') && this.queuedEvents.length < DM_DEFAULTS.maxQueuedEvents) {
        this.queuedEvents.push(e);
      }
      return;
    }
    switch (e.ev) {
      case 'dmReceived':
        if (this.unacked.has(e.id)) break; // delivered again before our acknowledgement reached the authority
        this.unacked.add(e.id);
        this.enqueueIncoming(e.from, e.envelope, e.stored ? 'stored' : 'relayed', e.id);
        break;
      case 'signalReceived':
        this.onSignal(e.from, e.data);
        break;
      case 'keysChanged':
        if (this.friend(e.username)) this.considerKey(e.username, e.identity);
        break;
      case 'friendsChanged':
        if (e.state === 'friends') void this.fetchKeys(e.username);
        else if (e.state === 'none') this.unfriended(e.username);
        break;
      case 'presenceChanged':
        // The friend's last session ended (closed, crashed, cut off): a channel that looks open may
        // be dead, and what went over it unreceipted is sent again through the authority's store.
        if (!e.online) this.links.get(e.username.toLowerCase())?.destroy('PEER_OFFLINE');
        break;
      default:
        break;
    }
  }

  private unfriended(username: string): void {
    const lower = username.toLowerCase();
    this.links.get(lower)?.destroy('UNFRIENDED');
    this.held.delete(lower);
    this.receiptsDue.delete(lower);
    for (const [id, sent] of [...this.unreceipted]) if (sent.peer.toLowerCase() === lower) this.unreceipted.delete(id);
    const keys = this.keysCache.get(lower);
    if (keys) this.guard.forget(keys.conversation);
  }

  /** Incoming envelopes are handled one at a time, in arrival order. */
  private enqueueIncoming(from: string, wire: string, path: DmPath, storeId?: number): void {
    this.incoming = this.incoming
      .then(() => this.receive(from, wire, path, storeId))
      .catch((err: unknown) => this.log('receive_failed', { from, error: (err as Error)?.message ?? String(err) }));
  }

  private async receive(from: string, wire: string, path: DmPath, storeId?: number): Promise<void> {
    if (this.state !== 'ready') return;
    const history = this.history!;
    const done = () => {
      if (storeId !== undefined) this.ackLater(storeId);
    };
    const friend = this.friend(from);
    if (!friend) {
      this.reject(from, 'NOT_FRIENDS', path);
      return done();
    }
    let pin = history.pin(friend.username);
    if (!pin) {
      const fetched = await this.fetchKeys(friend.username);
      if (!fetched.ok && isTransient(fetched.error.code)) {
        if (storeId !== undefined) this.unacked.delete(storeId); // not acknowledged: processed when it comes again
        return;
      }
      pin = history.pin(friend.username);
      if (!pin) {
        this.reject(friend.username, 'UNPINNED_KEY', path);
        return done();
      }
    }
    let keys = this.keysFor(pin);
    // Opened with a scratch guard so that a replay still tells us its id (to receipt it again).
    let opened = openEnvelope(keys, wire, new ReplayGuard());
    const sender = !opened.ok && opened.reason === 'UNPINNED_KEY' ? senderKeyId(wire) : null;
    if (sender) {
      if (pin.pending?.keyId !== sender) {
        await this.fetchKeys(friend.username); // perhaps changed without our hearing of it
        pin = history.pin(friend.username)!;
      }
      if (pin.pending?.keyId === sender) {
        // From the friend's new key: kept (and not acknowledged) until the user trusts it.
        const held = this.held.get(pin.peer) ?? [];
        if (held.length < DM_DEFAULTS.maxHeldPerFriend) held.push({ wire, path, storeId });
        this.held.set(pin.peer, held);
        this.reject(friend.username, 'UNPINNED_KEY', path);
        return;
      }
      keys = this.keysFor(pin);
      opened = openEnvelope(keys, wire, new ReplayGuard());
    }
    if (!opened.ok) {
      this.reject(friend.username, opened.reason, path);
      return done();
    }
    const message = opened.message;
    const verdict = this.guard.admit(keys.conversation, message.id, message.ts);
    if (verdict === 'STALE') {
      this.reject(friend.username, 'STALE', path);
      return done();
    }
    if (message.body.kind === 'receipt') {
      if (verdict === null) this.onReceipt(friend.username, message.body.ids);
      else this.reject(friend.username, verdict, path);
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
    this.receiptLater(friend.username, message.id);
    if (!fresh) {
      this.reject(friend.username, 'REPLAYED', path);
      return done();
    }
    this.emit('received', record);
    done();
  }

  private onReceipt(peer: string, ids: string[]): void {
    for (const id of ids) {
      this.unreceipted.delete(id);
      const record = this.history!.get(peer, id);
      if (!record || record.direction !== 'out' || record.status === 'delivered') continue;
      this.setStatus(record, { status: 'delivered' });
    }
  }

  private reject(from: string, reason: string, path: DmPath | 'signal'): void {
    this.log('dm_rejected', { from, reason, path });
    this.emit('rejected', { from, reason, path });
  }

  // ---------- receipts and acknowledgements ----------

  private receiptLater(peer: string, id: string): void {
    const lower = peer.toLowerCase();
    let ids = this.receiptsDue.get(lower);
    if (!ids) this.receiptsDue.set(lower, (ids = new Set()));
    ids.add(id);
    this.receiptTimer ??= setTimeout(() => {
      this.receiptTimer = null;
      if (this.state === 'ready') void this.flushReceipts();
    }, 0);
  }

  private async flushReceipts(): Promise<void> {
    if (this.receiptTimer) clearTimeout(this.receiptTimer);
    this.receiptTimer = null;
    if (!this.history) return;
    const due = [...this.receiptsDue];
    this.receiptsDue.clear();
    const relays: Promise<unknown>[] = [];
    for (const [lower, idSet] of due) {
      const pin = this.history!.pin(lower);
      if (!pin || pin.pending) continue; // the friend's new key is not trusted: no receipt to it
      const keys = this.keysFor(pin);
      const ids = [...idSet];
      for (let i = 0; i < ids.length; i += MAX_RECEIPT_IDS) {
        const wire = sealEnvelope(keys, { id: newClientId(), body: { kind: 'receipt', ids: ids.slice(i, i + MAX_RECEIPT_IDS) } });
        if (this.links.get(lower)?.send(wire)) continue;
        relays.push(
          this.client.call('relayDm', { to: pin.username, envelope: wire }).then((r) => {
            if (!r.ok) this.log('receipt_failed', { to: pin.username, code: r.error.code });
          }),
        );
      }
    }
    await Promise.all(relays);
  }

  /** Acknowledged to the authority (which deletes its copy) only once the history holding it is saved. */
  private ackLater(storeId: number): void {
    this.acksDue.push(storeId);
    this.ackTimer ??= setTimeout(() => {
      this.ackTimer = null;
      void this.flushAcks();
    }, 0);
  }

  private flushAcks(): Promise<void> {
    this.acking = this.acking.then(async () => {
      if (this.acksDue.length === 0) return;
      const ids = this.acksDue;
      this.acksDue = [];
      try {
        await this.history!.flush();
      } catch {
        return; // not saved: not acknowledged, the authority delivers them again next session
      }
      for (let i = 0; i < ids.length; i += LIMITS.maxAckIds) {
        const chunk = ids.slice(i, i + LIMITS.maxAckIds);
        const r = await this.client.call('ackDms', { ids: chunk });
        if (r.ok) {
          for (const id of chunk) this.unacked.delete(id);
        } else {
          this.log('ack_failed', { code: r.error.code });
          this.acksDue.push(...chunk); // tried again when the session is back
        }
      }
    });
    return this.acking;
  }

  // ---------- local history ----------

  /** The latest DMs with a friend, oldest first (before a sender timestamp to page back). */
  conversation(username: string, options: { limit?: number; beforeTs?: number } = {}): Outcome<DmRecord[]> {
    if (this.state !== 'ready') return fail('LOCKED');
    const limit = Math.max(1, Math.min(options.limit ?? LIMITS.defaultPageSize, 10_000));
    return { ok: true, value: this.history!.conversation(username, limit, options.beforeTs) };
  }

  /** Everything the local history holds, as plain data (GDPR export). */
  exportHistory(): Outcome<HistoryExport & { user: string }> {
    if (this.state !== 'ready') return fail('LOCKED');
    return { ok: true, value: { user: this.me!.username, ...this.history!.export(Date.now()) } };
  }

  /** Erases the local DMs with one friend, or all of them; pinned keys stay. */
  async eraseHistory(username: string | null = null): Promise<Outcome<{ erased: number }>> {
    if (this.state !== 'ready') return fail('LOCKED');
    const erased = this.history!.erase(username, Date.now());
    await this.history!.flush();
    return { ok: true, value: { erased } };
  }

  /** Resolves when an outgoing DM reaches `status` (or fails), or with null after the timeout. */
  waitFor(dm: Pick<DmRecord, 'peer' | 'id'>, status: DmRecord['status'], timeoutMs: number): Promise<DmRecord | null> {
    return new Promise((resolve) => {
      const current = this.state === 'ready' ? this.history!.get(dm.peer, dm.id) : null;
      if (current && (current.status === status || current.status === 'failed')) return resolve(current);
      const timer = setTimeout(() => {
        off();
        resolve(null);
      }, timeoutMs);
      const off = this.on('status', (r) => {
        if (r.id === dm.id && (r.status === status || r.status === 'failed')) {
          clearTimeout(timer);
          off();
          resolve(r);
        }
      });
    });
  }

  // ---------- reporting ----------

  private warn(code: string, message: string): void {
    this.log('warning', { code });
    this.emit('warning', { code, message });
  }

  private log(event: string, fields: Record<string, unknown>): void {
    this.options.log?.(event, fields);
  }
}
