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
 * The engine holds the lifecycle (locked → unlocking → ready → closed), the choice between a
 * channel and the relay, and the routing of the authority's events to its parts: keys.ts
 * (pins, key changes, trust), channels.ts (one PeerLink per friend, signaling), inbox.ts
 * (receive, replay, order) and receipts.ts (receipts to friends, acknowledgements to the
 * authority). It speaks to the authority only through the client's public API.
 *
 * The device identity is made at the first login and sealed under the password; it is
 * published after every login. Open data channels do not depend on the authority: they keep
 * working while it is down.
 */
import { DmBodySchema, publicIdentity, sealEnvelope } from '../../crypto/index.js';
import { fail, failure, LIMITS, ok, type DeviceInfo, type Failure, type FriendInfo, type KeyLogHead, type Outcome, type ServerEvent } from '../../protocol/index.js';
import { newClientId, type ChandlerClient } from '../client.js';
import { Emitter } from '../emitter.js';
import { isTransient, rateLimitDelay, RETRY_POLICY } from '../retry.js';
import { Channels } from './channels.js';
import type { DmContext, Me } from './context.js';
import { historyName, saveIdentity, unlockIdentity } from './device-identity.js';
import { DmHistory, historyKeyFrom, type HistoryExport } from './history.js';
import { Inbox } from './inbox.js';
import { Keys, type SafetyNumbers, type Trusted } from './keys.js';
import { peerKey } from './peer-key.js';
import { Receipts } from './receipts.js';
import { KeyLogWatch } from './key-log-watch.js';
import { DeviceSync } from './device-sync.js';
import { HistoryTransfer } from './history-transfer.js';
import { DM_DEFAULTS, type ChannelState, type DmEngineEvents, type DmEngineOptions, type DmPath, type DmRecord } from './types.js';

export type EngineState = 'locked' | 'unlocking' | 'ready' | 'closed';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class DmEngine extends Emitter<DmEngineEvents> {
  state: EngineState = 'locked';
  /** Names this engine in signaling, so that a user's other sessions ignore what is not for them. */
  readonly sessionId = newClientId();
  /** The device identity and the local history, once unlocked. */
  private unlocked: { me: Me; history: DmHistory } | null = null;
  private readonly keys: Keys;
  private readonly keyLog: KeyLogWatch;
  private readonly channels: Channels;
  private readonly receipts: Receipts;
  private readonly inbox: Inbox;
  private readonly devices: DeviceSync;
  private readonly transfer: HistoryTransfer;
  /** This device started with the account's identity and no DM: it asks my other devices for the history. */
  private wantsHistory = false;
  private readonly sendChains = new Map<string, Promise<unknown>>();
  private readonly inFlight = new Set<string>();
  private readonly lastTs = new Map<string, number>();
  private queuedEvents: ServerEvent[] = [];
  private readonly offClient: (() => void)[];

  constructor(
    private readonly client: ChandlerClient,
    private readonly options: DmEngineOptions,
  ) {
    super();
    const state = () => this.state;
    const unlocked = () => this.unlocked;
    // What the parts see of the engine (its own public API stays as small as before).
    const ctx: DmContext = {
      client,
      options,
      sessionId: this.sessionId,
      get ready() {
        return state() === 'ready';
      },
      get me() {
        return unlocked()?.me ?? null;
      },
      get history() {
        return unlocked()?.history ?? null;
      },
      friend: (name) => this.friend(name),
      report: (name, payload) => this.emit(name, payload),
      log: (event, fields) => this.log(event, fields),
      reject: (from, reason, path) => this.reject(from, reason, path),
    };
    this.keyLog = new KeyLogWatch(ctx);
    this.keys = new Keys(ctx, this.keyLog, {
      keyChanged: (username) => this.channels.close(username, 'KEY_CHANGED'),
      released: (username, held) => {
        for (const h of held) this.inbox.enqueue(username, h.wire, h.path, h.storeId);
      },
    });
    this.channels = new Channels(ctx, {
      received: (username, text) => {
        if (text === null) this.reject(username, 'MALFORMED', 'direct');
        else this.inbox.enqueue(username, text, 'direct');
      },
      lost: (username) => this.relayUnreceipted(username),
    });
    this.receipts = new Receipts(ctx, this.keys, this.channels, (record) => this.setStatus(record, { status: 'delivered' }));
    this.devices = new DeviceSync(ctx);
    this.transfer = new HistoryTransfer(ctx, this.devices, {
      progress: (p) => {
        if (p.done) this.wantsHistory = false;
        this.emit('historyProgress', p);
      },
    });
    this.inbox = new Inbox(ctx, this.keys, this.receipts, this.keyLog, this.devices);
    // Friends compare the key log heads their devices saw as soon as a direct channel opens.
    this.on('channel', (c) => {
      if (c.state === 'open') this.gossipKeyLog(c.username);
    });
    this.offClient = [
      client.on('event', (e) => this.onServerEvent(e)),
      client.on('status', (s) => {
        if (s === 'ready' && this.state === 'ready') void this.onSessionReady();
      }),
    ];
  }

  private get me(): Me | null {
    return this.unlocked?.me ?? null;
  }

  private get history(): DmHistory | null {
    return this.unlocked?.history ?? null;
  }

  get username(): string | null {
    return this.me?.username ?? null;
  }

  get keyId(): string | null {
    return this.me?.identity.keyId ?? null;
  }

  // ---------- lifecycle ----------

  /**
   * Opens the user's identity with the password the user just logged in with: this device's,
   * or on a new device the account's (sealed at the authority, opened with the login's OPAQUE
   * export key), or, for the account's first device, a new one. Then opens the local history,
   * publishes the public identity and pins friends' keys. Call it after every login. Without an
   * export key (a resumed session), only the keys already on this device open.
   */
  async unlock(
    password: string,
    exportKey: Uint8Array | null = this.client.exportKey,
  ): Promise<Outcome<{ keyId: string; created: boolean }>> {
    if (this.state === 'closed') return fail('CLOSED');
    if (this.state === 'ready') return ok({ keyId: this.me!.identity.keyId, created: false });
    if (this.state === 'unlocking') return fail('BUSY', { message: 'already unlocking' });
    const username = this.client.username;
    if (!username) return fail('LOCKED');
    this.state = 'unlocking';
    try {
      const { storage } = this.options;
      const client = this.client;
      const got = await unlockIdentity(storage, username, password, {
        kdfN: this.options.kdfN,
        localOnly: exportKey === null,
        ...(exportKey && {
          backup: {
            exportKey,
            get: async () => {
              const r = await client.call('getIdentityBackup', {});
              return r.ok ? ok(r.value.backup) : r;
            },
            put: (backup, replaces) => client.call('putIdentityBackup', { backup, replaces }),
          },
        }),
      });
      if (!got.ok) {
        if ((this.state as EngineState) !== 'closed') this.state = 'locked';
        return got;
      }
      const unlocked = got.value;
      const identity = unlocked.identity;
      const previous = unlocked.previous;
      const opened = await DmHistory.open({
        sql: await this.options.loadSql(),
        storage,
        name: historyName(username),
        key: historyKeyFrom(identity.box.secretKey, identity.sign.secretKey.subarray(0, 32)),
        ...(previous && { previousKey: historyKeyFrom(previous.box.secretKey, previous.sign.secretKey.subarray(0, 32)) }),
        saveDelayMs: DM_DEFAULTS.saveDelayMs,
        onSaveError: (err) => this.warn('HISTORY_SAVE_FAILED', `the DM history could not be saved: ${(err as Error)?.message ?? err}`),
      });
      if ((this.state as EngineState) === 'closed') {
        await opened.history.close();
        return fail('CLOSED');
      }
      this.unlocked = { me: { username, identity }, history: opened.history };
      this.state = 'ready';
      if (unlocked.created) this.emit('identityCreated', { keyId: identity.keyId, replaced: unlocked.setAside !== null });
      if (previous) {
        this.warn(
          'IDENTITY_ADOPTED',
          `this device now uses your account's keys (kept sealed for your devices); its own keys were kept as ${unlocked.setAside}`,
        );
      } else if (unlocked.setAside && unlocked.created) {
        this.warn('IDENTITY_REPLACED', `the keys on this device could not be opened with this password; kept as ${unlocked.setAside}`);
      } else if (unlocked.setAside) {
        // Sealed under an older password here; the account's backup gave the same keys back.
        this.log('identity_restored', { keyId: identity.keyId, setAside: unlocked.setAside });
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
      await this.inbox.idle();
      // The account's identity on a device with no DM yet: another of my devices may have them.
      // (Asked again whenever another of my devices connects, until a history has come.)
      this.wantsHistory = !unlocked.created && opened.history.count() === 0;
      if (this.wantsHistory) void this.transfer.request();
      return ok({ keyId: identity.keyId, created: unlocked.created });
    } catch (err) {
      if ((this.state as EngineState) !== 'closed') this.state = 'locked';
      return fail('INTERNAL', { message: `cannot unlock direct messages: ${(err as Error)?.message ?? String(err)}`, cause: err });
    }
  }

  /** Re-seals the device identity under a new password (call it after a password change). */
  async changePassword(newPassword: string): Promise<Outcome<void>> {
    if (this.state !== 'ready' || !this.me) return fail('LOCKED');
    await saveIdentity(this.options.storage, this.me.username, this.me.identity, newPassword, this.options.kdfN);
    return ok(undefined);
  }

  /** Closes every channel, saves the history and stops. Idempotent. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    const wasReady = this.state === 'ready';
    this.state = 'closed';
    for (const off of this.offClient) off();
    if (wasReady) {
      // Receipts still due go out (over the channels, else the relay) before everything closes.
      await this.inbox.idle();
      await this.receipts.flushReceipts();
      await this.receipts.flushAcks();
    }
    this.channels.closeAll('ENGINE_CLOSED');
    this.transfer.close();
    this.receipts.stop();
    await this.history?.close();
  }

  private async onSessionReady(): Promise<void> {
    const me = this.me;
    if (!me || this.state !== 'ready') return;
    await this.devices.hello();
    const published = await this.client.call('publishKeys', { identity: publicIdentity(me.identity) });
    if (!published.ok) this.log('publish_keys_failed', { code: published.error.code });
    await this.checkKeyLog();
    await this.keys.pinFriends();
    this.retryUnsent();
    if (this.receipts.acksWaiting) void this.receipts.flushAcks();
  }

  // ---------- my devices (device-sync.ts) ----------

  /** This installation's id in my device list (set once unlocked). */
  get deviceId(): string | null {
    return this.devices.deviceId;
  }

  /**
   * Asks my other online devices for the DM history (done at unlock when this device has none):
   * one of them sends it over a direct channel; `historyProgress` events follow.
   */
  requestHistory(): Promise<boolean> {
    if (this.state !== 'ready') return Promise.resolve(false);
    return this.transfer.request();
  }

  /** My devices, as the authority knows them (this one is `current`). */
  listDevices(): Promise<Outcome<DeviceInfo[]>> {
    if (this.state !== 'ready') return Promise.resolve(fail('LOCKED'));
    return this.devices.list();
  }

  /** Forgets another of my devices and ends its sessions (it must log in again with the password). */
  async revokeDevice(deviceId: string): Promise<Outcome<void>> {
    if (this.state !== 'ready') return fail('LOCKED');
    const r = await this.devices.revoke(deviceId);
    return r.ok ? ok(undefined) : r;
  }

  // ---------- keys and trust (keys.ts) ----------

  /** What this device knows of the authority's key log: the pinned log key and the newest head it verified. */
  keyLogState(): { publicKey: string; head: KeyLogHead } | null {
    const state = this.history?.keyLogState();
    return state ? { publicKey: state.publicKey, head: state.head } : null;
  }

  /**
   * Sends a friend, end-to-end encrypted over the direct channel when there is one (else through
   * the authority, which can drop it but not change it), the newest key log head this device saw:
   * two heads that cannot both be true are proof that the authority shows people different logs.
   */
  gossipKeyLog(username: string): boolean {
    const head = this.history?.keyLogState()?.head;
    const pin = this.history?.pin(username);
    if (!head || !pin || pin.pending || this.state !== 'ready') return false;
    const wire = sealEnvelope(this.keys.channelKeysFor(pin), { id: newClientId(), body: { kind: 'logHead', head } });
    if (!this.channels.send(pin.username, wire)) {
      void this.client.call('relayDm', { to: pin.username, envelope: wire }).then((r) => {
        if (!r.ok) this.log('key_log_gossip_failed', { to: pin.username, code: r.error.code });
      });
    }
    return true;
  }

  /**
   * Reads the key log's bindings of my own name since the last check (at each session start, and
   * whenever the app asks): a key I did not publish raises keyLogAlarm.
   */
  async checkKeyLog(): Promise<Outcome<void>> {
    const me = this.me;
    if (!me || this.state !== 'ready') return fail('LOCKED');
    const r = await this.keyLog.checkMine(me.identity.keyId);
    if (!r.ok && r.error.code !== 'KEY_NOT_LOGGED') this.log('key_log_check_failed', { code: r.error.code });
    return r;
  }

  private friend(name: string): FriendInfo | null {
    const key = peerKey(name);
    return this.client.friends.find((f) => f.state === 'friends' && peerKey(f.username) === key) ?? null;
  }

  /**
   * The safety number with a friend's pinned key (pinning it on first use), and with the
   * changed key waiting for trust if there is one. Both people see the same digits.
   */
  safetyNumber(username: string): Promise<Outcome<SafetyNumbers>> {
    if (this.state !== 'ready') return Promise.resolve(fail('LOCKED'));
    return this.keys.safetyNumber(username);
  }

  /** Accepts a friend's changed key (after comparing safety numbers): sending is unblocked. */
  trust(username: string): Promise<Outcome<Trusted>> {
    if (this.state !== 'ready') return Promise.resolve(fail('LOCKED'));
    return this.keys.trust(username);
  }

  /** True while sending to this friend is blocked by a changed key. */
  isBlocked(username: string): boolean {
    return this.keys.isBlocked(username);
  }

  /** The data channel with a friend: open, being opened, or closed. */
  channelState(username: string): ChannelState {
    return this.channels.state(username);
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
    const ready = await this.keys.forSending(friend.username);
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

  /** Sender timestamps strictly increase per conversation: they are its order on both sides. */
  private nextTs(peer: string): number {
    const key = peerKey(peer);
    const last = this.lastTs.get(key) ?? this.history!.lastOutgoingTs(key);
    const ts = Math.max(Date.now(), last + 1);
    this.lastTs.set(key, ts);
    return ts;
  }

  /** One conversation sends in order: a DM waits for the one before it to leave. */
  private enqueueSend(record: DmRecord): Promise<Outcome<DmRecord>> {
    const key = peerKey(record.peer);
    this.inFlight.add(record.id);
    const previous = this.sendChains.get(key) ?? Promise.resolve();
    const next = previous.then(() => this.deliver(record)).finally(() => this.inFlight.delete(record.id));
    this.sendChains.set(key, next.catch(() => undefined));
    return next;
  }

  private setStatus(record: DmRecord, patch: Partial<Pick<DmRecord, 'status' | 'path' | 'error'>>): DmRecord {
    Object.assign(record, patch);
    if (patch.status && patch.status !== 'failed') delete record.error;
    if (this.state === 'ready') this.history!.update(record);
    this.emit('status', { ...record });
    // Once it has left, my other devices get a copy (they show what I sent from here).
    if (patch.status === 'sent' && record.direction === 'out') this.devices.copy(record);
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
    const wire = sealEnvelope(this.keys.channelKeysFor(pin), { id: record.id, ts: record.ts, body: { kind: 'text', text: record.text } });
    if ((await this.channels.tryDirect(record.peer)) && this.channels.send(record.peer, wire)) {
      this.receipts.sentDirect({ peer: record.peer, id: record.id, wire });
      return ok({ ...this.setStatus(record, { status: 'sent', path: 'direct' }) });
    }
    return this.relay(record, wire);
  }

  private async relay(record: DmRecord, wire: string): Promise<Outcome<DmRecord>> {
    let keysRefreshed = false;
    for (let waits = 0; ; waits++) {
      if (this.state !== 'ready') return fail('CLOSED');
      const r = await this.client.call('relayDm', { to: record.peer, envelope: wire });
      if (r.ok) return ok({ ...this.setStatus(record, { status: 'sent', path: r.value.path }) });
      const code = r.error.code;
      if (code === 'RATE_LIMITED' && waits < RETRY_POLICY.maxRateLimitWaits) {
        await sleep(rateLimitDelay(r.error));
        continue;
      }
      if (code === 'INVALID_KEYS' && !keysRefreshed && this.me) {
        // Our published key or the friend's is not the one sealed with: publish ours, recheck theirs.
        keysRefreshed = true;
        await this.client.call('publishKeys', { identity: publicIdentity(this.me.identity) });
        const theirs = await this.keys.fetch(record.peer);
        if (!theirs.ok && theirs.error.code === 'KEY_CHANGED') return this.failRecord(record, theirs.error);
        continue;
      }
      if (isTransient(code) || code === 'RATE_LIMITED') {
        // Kept and sent again when the session is back (same id: the friend never shows it twice).
        this.setStatus(record, { status: 'queued' });
        return ok({ ...record });
      }
      return this.failRecord(record, r.error);
    }
  }

  /**
   * What went over a channel that closed without a receipt may be lost with it: sent again by
   * the authority (same envelope, same id: the friend drops the copy if the first one arrived).
   */
  private relayUnreceipted(username: string): void {
    for (const sent of this.receipts.takeUnreceipted(username)) {
      const record = this.history!.get(sent.peer, sent.id);
      if (!record || record.status === 'delivered') continue;
      void this.relay(record, sent.wire);
    }
  }

  /** Sends what is queued or was interrupted (a previous run, a lost session). */
  private retryUnsent(): void {
    if (this.state !== 'ready') return;
    for (const record of this.history!.unsent()) {
      // Sending now, or over a channel of this session that is still open (relayed if it closes).
      if (this.inFlight.has(record.id) || this.receipts.isUnreceipted(record.id)) continue;
      void this.enqueueSend(record);
    }
  }

  // ---------- events from the authority ----------

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
        this.inbox.fromAuthority(e.from, e.envelope, e.stored === true, e.id);
        break;
      case 'signalReceived':
        // From another session of mine: the history for a new device; else a friend's channel.
        if (peerKey(e.from) === peerKey(this.me!.username)) this.transfer.onSignal(e.data);
        else this.channels.onSignal(e.from, e.data);
        break;
      case 'keysChanged':
        // Taken from the directory with its key log proof, not from the event (which proves nothing).
        if (this.friend(e.username)) void this.keys.fetch(e.username);
        break;
      case 'friendsChanged':
        if (e.state === 'friends') void this.keys.fetch(e.username);
        else if (e.state === 'none') this.unfriended(e.username);
        break;
      case 'devicesChanged':
        this.devices.devicesChanged();
        if (this.wantsHistory) void this.transfer.request();
        break;
      case 'presenceChanged':
        // The friend's last session ended (closed, crashed, cut off): a channel that looks open may
        // be dead, and what went over it unreceipted is sent again through the authority's store.
        if (!e.online) this.channels.close(e.username, 'PEER_OFFLINE');
        break;
      default:
        break;
    }
  }

  private unfriended(username: string): void {
    this.channels.close(username, 'UNFRIENDED');
    this.receipts.forget(username);
    this.inbox.forget(username);
  }

  // ---------- local history ----------

  /** The latest DMs with a friend, oldest first (before a sender timestamp to page back). */
  conversation(username: string, options: { limit?: number; beforeTs?: number } = {}): Outcome<DmRecord[]> {
    if (this.state !== 'ready') return fail('LOCKED');
    const limit = Math.max(1, Math.min(options.limit ?? LIMITS.defaultPageSize, 10_000));
    return ok(this.history!.conversation(username, limit, options.beforeTs));
  }

  /** Everything the local history holds, as plain data (GDPR export). */
  exportHistory(): Outcome<HistoryExport & { user: string }> {
    if (this.state !== 'ready') return fail('LOCKED');
    return ok({ user: this.me!.username, ...this.history!.export(Date.now()) });
  }

  /** Erases the local DMs with one friend, or all of them; pinned keys stay. */
  async eraseHistory(username: string | null = null): Promise<Outcome<{ erased: number }>> {
    if (this.state !== 'ready') return fail('LOCKED');
    const erased = this.history!.erase(username, Date.now());
    await this.history!.flush();
    return ok({ erased });
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

  private reject(from: string, reason: string, path: DmPath | 'signal'): void {
    this.log('dm_rejected', { from, reason, path });
    this.emit('rejected', { from, reason, path });
  }

  private warn(code: string, message: string): void {
    this.log('warning', { code });
    this.emit('warning', { code, message });
  }

  private log(event: string, fields: Record<string, unknown>): void {
    this.options.log?.(event, fields);
  }
}
