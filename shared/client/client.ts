/**
 * The headless CHandler client: one session with the authority over an injected WebSocket.
 * This file holds the connection's state machine (connect, log in, reconnect by itself with
 * jittered backoff, resume) and the facade the desktop UI, the CLI, the tests and the
 * benchmarks use; the rooms and their resync live in room-sync.ts, my messages on their way
 * in outbox.ts, requests and replies in rpc.ts.
 *
 * Status: offline → connecting → connected → ready ⇄ reconnecting; closed is terminal
 * (logged out, banned, kicked, session invalid, or close() called).
 */
import {
  CLOSE_CODES,
  fail,
  failure,
  TERMINAL_CLOSE_CODES,
  type FriendInfo,
  type Params,
  type RequestType,
  type Result,
  type RoomInfo,
  type RoomMessage,
  type Failure,
  type Outcome,
  type OpaqueKsf,
  type ServerEvent,
  type SessionInfo,
} from '../protocol/index.js';
import { finishLogin, finishRegistration, startLogin, startRegistration } from '../crypto/opaque.js';
import { publicRandomBytes } from '../crypto/random.js';
import { rewrapBackup } from '../crypto/identity-backup.js';
import { passwordPolicyError } from '../password-policy.js';
import { Emitter } from './emitter.js';
import { Outbox, type OutgoingMessage } from './outbox.js';
import { RoomSync, type RoomState } from './room-sync.js';
import { isTransient, rateLimitDelay, RETRY_POLICY } from './retry.js';
import { Rpc } from './rpc.js';
import { CERT_MISMATCH_CLOSE, type SocketFactory, type SocketLike } from './transport.js';

export type ClientStatus = 'offline' | 'connecting' | 'connected' | 'ready' | 'reconnecting' | 'closed';

export interface ClosedInfo {
  code: number;
  reason: string;
  error?: Failure;
}

export interface ClientEvents {
  status: ClientStatus;
  message: RoomMessage;
  outbox: OutgoingMessage;
  rooms: RoomState[];
  friends: FriendInfo[];
  event: ServerEvent;
  session: SessionInfo;
  closed: ClosedInfo;
  /** A sync after reconnecting filled this many missed messages. */
  resynced: { rooms: number; messages: number };
}

export interface ClientOptions {
  url: string;
  socketFactory: SocketFactory;
  clientVersion?: string;
  /** Backoff bounds for reconnecting. */
  reconnect?: { initialMs?: number; maxMs?: number };
  /** How long a request waits for its reply unless the call says otherwise (DEFAULT_REQUEST_TIMEOUT_MS). */
  requestTimeoutMs?: number;
  /** Random source, injectable for tests of the id generator. */
  random?: () => number;
  /**
   * The least key stretching this client runs inside OPAQUE: an authority that asks for less (so
   * that a copy of its files would be cheaper to attack) is refused WEAK_KEY_STRETCHING. The
   * desktop app sets DEFAULT_OPAQUE_KSF; the web client, served by the authority itself, cannot
   * meaningfully refuse it anything (docs/SECURITY.md).
   */
  minKsf?: OpaqueKsf;
}

/** OPAQUE's login proof (KE3, a MAC) is 64 bytes. */
const PROOF_BYTES = 64;

/** A login proof no password made: random bytes of the right size, which the authority refuses. */
function unprovable(): string {
  return base64Url(publicRandomBytes(PROOF_BYTES));
}

function base64Url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

const BACKOFF_INITIAL_MS = 500;
const BACKOFF_MAX_MS = 30_000;
const CONNECT_TIMEOUT_MS = 10_000;
const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-';

/** A random id of 22 url-safe characters (132 bits), for messages and sessions. */
export function newClientId(random: () => number = Math.random, length = 22): string {
  const c = (globalThis as { crypto?: { getRandomValues?: unknown } }).crypto;
  let bytes: Uint8Array;
  if (c?.getRandomValues) {
    bytes = publicRandomBytes(length);
  } else {
    bytes = new Uint8Array(length);
    for (let i = 0; i < length; i++) bytes[i] = Math.floor(random() * 256);
  }
  let out = '';
  for (const b of bytes) out += ID_ALPHABET[b & 63];
  return out;
}

export class ChandlerClient extends Emitter<ClientEvents> {
  status: ClientStatus = 'offline';
  session: SessionInfo | null = null;
  friends: FriendInfo[] = [];
  /** My room messages on their way (sending, failed, or sent and not yet back in the room). */
  readonly outbox: Outbox;
  private readonly roomSync: RoomSync;
  private socket: SocketLike | null = null;
  private rpc: Rpc | null = null;
  private attempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private closedByUser = false;
  private lastClose: ClosedInfo | null = null;
  /** OPAQUE's export key from this session's password proof (login, registration, change): never sent. */
  private passwordExportKey: Uint8Array | null = null;

  constructor(private readonly options: ClientOptions) {
    super();
    this.roomSync = new RoomSync({
      call: (type, params) => this.call(type, params),
      connected: () => this.rpc !== null,
      me: () => this.username,
      roomsChanged: (rooms) => this.emit('rooms', rooms),
      added: (m) => {
        if (m.author === this.username) this.outbox.arrived(m.room, m.seq, m.clientId);
        this.emit('message', m);
      },
      resynced: (filled) => this.emit('resynced', filled),
    });
    this.outbox = new Outbox({
      canSend: () => this.status === 'ready',
      post: (m) => this.call('postMessage', { room: m.room, clientId: m.clientId, text: m.text }),
      inRoom: (room, seq) => this.roomSync.holds(room, seq),
      changed: (m) => this.emit('outbox', m),
      newId: () => newClientId(this.options.random),
    });
  }

  /** The rooms this client knows, by name. */
  get rooms(): Map<string, RoomState> {
    return this.roomSync.rooms;
  }

  get username(): string | null {
    return this.session?.user.username ?? null;
  }

  /**
   * What only the password's holder can compute, from the last login, registration or password
   * change of this client (null after a resumed session): the DM engine opens the account's
   * sealed identity with it. Forgotten when the client closes.
   */
  get exportKey(): Uint8Array | null {
    return this.passwordExportKey;
  }

  private setExportKey(key: Uint8Array | null): void {
    this.passwordExportKey?.fill(0);
    this.passwordExportKey = key;
  }

  get isAdmin(): boolean {
    return this.session?.user.admin ?? false;
  }

  private setStatus(s: ClientStatus): void {
    if (this.status === s) return;
    this.status = s;
    this.emit('status', s);
  }

  // ---------- connection ----------

  /** Opens the socket (no login). Resolves when open, or with why it could not. */
  connect(): Promise<Outcome<void>> {
    if (this.status === 'closed') this.closedByUser = false;
    if (this.socket && this.rpc && this.status !== 'reconnecting' && this.status !== 'offline' && this.status !== 'closed') {
      return Promise.resolve({ ok: true, value: undefined });
    }
    this.setStatus(this.session ? 'reconnecting' : 'connecting');
    return new Promise((resolve) => {
      let settled = false;
      const done = (o: Outcome<void>) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(o);
      };
      let socket: SocketLike;
      try {
        socket = this.options.socketFactory(this.options.url);
      } catch (err) {
        done(fail('DISCONNECTED', { message: `cannot connect: ${(err as Error).message}`, cause: err }));
        return;
      }
      const timer = setTimeout(() => {
        socket.close();
        done(fail('TIMEOUT', { message: 'the server did not answer the connection' }));
      }, CONNECT_TIMEOUT_MS);
      this.socket = socket;
      const rpc = new Rpc(
        socket,
        (e) => this.onEvent(e),
        () => {
          /* a frame this client cannot read is ignored; replies time out if it was one */
        },
      );
      this.rpc = rpc;
      socket.onopen = () => {
        if (!this.session) this.setStatus('connected');
        done({ ok: true, value: undefined });
      };
      socket.onmessage = (ev) => rpc.handleFrame(ev.data);
      socket.onerror = () => {
        /* onclose follows and carries the code */
      };
      socket.onclose = (ev) => {
        rpc.failAll(ev.code === CERT_MISMATCH_CLOSE ? failure('CERT_MISMATCH', { message: ev.reason || undefined }) : closeError(ev.code, ev.reason));
        if (this.socket === socket) {
          this.socket = null;
          this.rpc = null;
        }
        const info: ClosedInfo = { code: ev.code, reason: ev.reason };
        // A close that ends the session for good says why (banned, kicked until when, …).
        if (ev.code === CERT_MISMATCH_CLOSE || TERMINAL_CLOSE_CODES.has(ev.code)) info.error = closeError(ev.code, ev.reason);
        this.lastClose = info;
        done({ ok: false, error: info.error ?? closeError(ev.code, ev.reason) });
        this.onSocketClosed(info);
      };
    });
  }

  private onSocketClosed(info: ClosedInfo): void {
    this.outbox.interrupted();
    const terminal = this.closedByUser || TERMINAL_CLOSE_CODES.has(info.code) || info.code === CERT_MISMATCH_CLOSE;
    if (terminal || !this.session) {
      if (this.status === 'connecting' || this.status === 'connected') this.setStatus('offline');
      if (terminal && this.session) this.finish(info);
      return;
    }
    this.scheduleReconnect();
  }

  private finish(info: ClosedInfo): void {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.setStatus('closed');
    this.emit('closed', info);
  }

  private scheduleReconnect(): void {
    if (this.reconnectTimer || this.closedByUser) return;
    this.setStatus('reconnecting');
    const initial = this.options.reconnect?.initialMs ?? BACKOFF_INITIAL_MS;
    const max = this.options.reconnect?.maxMs ?? BACKOFF_MAX_MS;
    const ceiling = Math.min(max, initial * 2 ** this.attempt);
    // Jitter spreads a thousand clients dropped together over the whole window.
    const delay = ceiling / 2 + (this.options.random ?? Math.random)() * (ceiling / 2);
    this.attempt++;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      void this.reconnect();
    }, delay);
  }

  /** Reconnects now (the UI's "retry" button; also the backoff timer). */
  async reconnect(): Promise<void> {
    if (this.closedByUser || !this.session) return;
    if (this.reconnectTimer) {
      clearTimeout(this.reconnectTimer);
      this.reconnectTimer = null;
    }
    const opened = await this.connect();
    if (!opened.ok) return; // onclose has scheduled the next try
    const resumed = await this.call('resume', { token: this.session.token, clientVersion: this.options.clientVersion });
    if (!resumed.ok) {
      if (isTransient(resumed.error.code)) {
        this.socket?.close();
        return;
      }
      this.socket?.close(1000, 'session refused');
      this.finish({ code: 0, reason: resumed.error.message, error: resumed.error });
      return;
    }
    this.attempt = 0;
    this.session = resumed.value;
    await this.afterLogin(true);
  }

  // ---------- session ----------

  /**
   * Runs a password operation; a fault of the OPAQUE code itself (its WebAssembly refused by a
   * page's policy, say) becomes an error the user sees instead of a login that never ends.
   */
  private async guarded<T>(work: () => Promise<Outcome<T>>): Promise<Outcome<T>> {
    try {
      return await work();
    } catch (err) {
      return fail('INTERNAL', { message: `this app could not run its password code: ${err instanceof Error ? err.message : String(err)}` });
    }
  }

  /** Sends a login or registration step again while the authority says BUSY (its password queue was full; nothing was tried). */
  private async patiently<T>(send: () => Promise<Outcome<T>>): Promise<Outcome<T>> {
    for (let waits = 0; ; waits++) {
      const r = await send();
      if (r.ok || r.error.code !== 'BUSY' || waits >= RETRY_POLICY.maxBusyWaits) return r;
      await new Promise((resolve) => setTimeout(resolve, rateLimitDelay(r.error)));
      if (this.closedByUser) return r;
    }
  }

  /** WEAK_KEY_STRETCHING when the authority asks for less than options.minKsf. */
  private weakKsf(ksf: OpaqueKsf): Outcome<never> | null {
    const min = this.options.minKsf;
    if (!min || (ksf.memory >= min.memory && ksf.iterations >= min.iterations)) return null;
    return fail('WEAK_KEY_STRETCHING', {
      message: `the server asks for ${ksf.memory} KiB × ${ksf.iterations} of Argon2id; this app needs at least ${min.memory} KiB × ${min.iterations}`,
    });
  }

  /** The authority's password policy, checked here: the authority never sees the password. */
  private async checkNewPassword(password: string, username: string): Promise<Outcome<void>> {
    const policy = await this.call('authPolicy', {});
    if (!policy.ok) return policy;
    const weak = await passwordPolicyError(password, { passwordMinLength: policy.value.minLength, passwordMinScore: policy.value.minScore }, username);
    if (weak) return fail('WEAK_PASSWORD', { reason: weak.reason, message: `weak password: ${weak.message}` });
    return this.weakKsf(policy.value.ksf) ?? { ok: true, value: undefined };
  }

  /**
   * The second half of a registration (new account, migration, reset): the record made from the
   * authority's response, sent with registerFinish; the session starts.
   */
  private async finishRecord(
    started: Awaited<ReturnType<typeof startRegistration>>,
    first: Outcome<{ registrationResponse: string; ksf: OpaqueKsf }>,
    password: string,
  ): Promise<Outcome<SessionInfo>> {
    if (!first.ok) return first;
    const weak = this.weakKsf(first.value.ksf);
    if (weak) return weak;
    const finished = await finishRegistration(started, first.value.registrationResponse, password, first.value.ksf);
    if (!finished) return fail('BAD_REPLY', { message: 'the registration response does not verify' });
    return this.started(await this.patiently(() => this.call('registerFinish', { registrationRecord: finished.record })), finished.exportKey);
  }

  private async started(r: Outcome<SessionInfo>, exportKey: Uint8Array): Promise<Outcome<SessionInfo>> {
    if (!r.ok) {
      exportKey.fill(0);
      return r;
    }
    this.setExportKey(exportKey);
    this.session = r.value;
    this.attempt = 0;
    this.emit('session', r.value);
    await this.afterLogin(false);
    return r;
  }

  /** Creates the account (OPAQUE: the password never leaves this client) and logs in. */
  register(username: string, password: string): Promise<Outcome<SessionInfo>> {
    return this.guarded(() => this.registerSteps(username, password));
  }

  private async registerSteps(username: string, password: string): Promise<Outcome<SessionInfo>> {
    this.closedByUser = false;
    const opened = await this.connect();
    if (!opened.ok) return opened;
    const policy = await this.checkNewPassword(password, username);
    if (!policy.ok) return policy;
    const reg = await startRegistration(password);
    const clientVersion = this.options.clientVersion;
    const first = await this.patiently(() => this.call('registerStart', { username, registrationRequest: reg.request, clientVersion }));
    return this.finishRecord(reg, first, password);
  }

  /**
   * Logs in (OPAQUE). An account made before OPAQUE moves to it here, once: its password goes to
   * the authority that one time (over TLS) to be checked against its old hash.
   */
  login(username: string, password: string): Promise<Outcome<SessionInfo>> {
    return this.guarded(() => this.loginSteps(username, password));
  }

  private async loginSteps(username: string, password: string): Promise<Outcome<SessionInfo>> {
    this.closedByUser = false;
    const opened = await this.connect();
    if (!opened.ok) return opened;
    const clientVersion = this.options.clientVersion;
    const login = await startLogin(password);
    const first = await this.patiently(() => this.call('loginStart', { username, startLoginRequest: login.request, clientVersion }));
    if (!first.ok) return first;
    if ('legacy' in first.value) {
      const reg = await startRegistration(password);
      const moved = await this.patiently(() => this.call('legacyLogin', { password, registrationRequest: reg.request }));
      return this.finishRecord(reg, moved, password);
    }
    const weak = this.weakKsf(first.value.ksf);
    if (weak) return weak;
    const proof = await finishLogin(login, first.value.loginResponse, password, first.value.ksf);
    if (!proof) {
      // Wrong password or unknown name (the authority's fake response fails the same way). A
      // proof that cannot verify ends the exchange now: the authority counts and logs the failed
      // attempt at once, instead of holding it "under way" until the exchange expires.
      const given = await this.patiently(() => this.call('loginFinish', { finishLoginRequest: unprovable() }));
      return given.ok ? fail('WRONG_CREDENTIALS') : given;
    }
    return this.started(await this.patiently(() => this.call('loginFinish', { finishLoginRequest: proof.finishLoginRequest })), proof.exportKey);
  }

  /** Chooses a new password with an admin's one-time reset code, and logs in. */
  resetPassword(username: string, code: string, newPassword: string): Promise<Outcome<SessionInfo>> {
    return this.guarded(() => this.resetPasswordSteps(username, code, newPassword));
  }

  private async resetPasswordSteps(username: string, code: string, newPassword: string): Promise<Outcome<SessionInfo>> {
    this.closedByUser = false;
    const opened = await this.connect();
    if (!opened.ok) return opened;
    const policy = await this.checkNewPassword(newPassword, username);
    if (!policy.ok) return policy;
    const reg = await startRegistration(newPassword);
    const clientVersion = this.options.clientVersion;
    const first = await this.patiently(() => this.call('resetStart', { username, code, registrationRequest: reg.request, clientVersion }));
    return this.finishRecord(reg, first, newPassword);
  }

  /**
   * Proves the password again (reauthStart, then OPAQUE's finish here): the proof for the request
   * that needs it, with the new record when `newPassword` is given. WRONG_PASSWORD when it is not
   * the account's (the authority counts the attempt).
   */
  private async reauthenticate(
    password: string,
    newPassword?: string,
  ): Promise<Outcome<{ finishLoginRequest: string; exportKey: Uint8Array; registrationRecord?: string; newExportKey?: Uint8Array }>> {
    const login = await startLogin(password);
    const reg = newPassword === undefined ? null : await startRegistration(newPassword);
    const first = await this.patiently(() =>
      this.call('reauthStart', reg ? { startLoginRequest: login.request, registrationRequest: reg.request } : { startLoginRequest: login.request }),
    );
    if (!first.ok) return first;
    const weak = this.weakKsf(first.value.ksf) ?? (first.value.newKsf ? this.weakKsf(first.value.newKsf) : null);
    if (weak) return weak;
    const proof = await finishLogin(login, first.value.loginResponse, password, first.value.ksf);
    if (!proof) return fail('WRONG_PASSWORD');
    if (!reg) return { ok: true, value: { finishLoginRequest: proof.finishLoginRequest, exportKey: proof.exportKey } };
    const { registrationResponse, newKsf } = first.value;
    const record = registrationResponse && newKsf ? await finishRegistration(reg, registrationResponse, newPassword!, newKsf) : null;
    if (!record) return fail('BAD_REPLY', { message: 'the registration response does not verify' });
    return {
      ok: true,
      value: { finishLoginRequest: proof.finishLoginRequest, exportKey: proof.exportKey, registrationRecord: record.record, newExportKey: record.exportKey },
    };
  }

  /** Resumes a saved session token (the desktop app after a restart). */
  async resume(token: string): Promise<Outcome<SessionInfo>> {
    this.closedByUser = false;
    const opened = await this.connect();
    if (!opened.ok) return opened;
    const r = await this.call('resume', { token, clientVersion: this.options.clientVersion });
    if (!r.ok) return r;
    this.session = r.value;
    this.emit('session', r.value);
    await this.afterLogin(false);
    return r;
  }

  changePassword(oldPassword: string, newPassword: string): Promise<Outcome<{ ok: true }>> {
    return this.guarded(() => this.changePasswordSteps(oldPassword, newPassword));
  }

  private async changePasswordSteps(oldPassword: string, newPassword: string): Promise<Outcome<{ ok: true }>> {
    const username = this.username;
    if (!username) return fail('NOT_AUTHENTICATED');
    const policy = await this.checkNewPassword(newPassword, username);
    if (!policy.ok) return policy;
    // The account's sealed identity, read first: its key is sealed again under the new password.
    const kept = await this.call('getIdentityBackup', {});
    const proven = await this.reauthenticate(oldPassword, newPassword);
    if (!proven.ok) return proven;
    const { finishLoginRequest, registrationRecord, exportKey, newExportKey } = proven.value;
    const backup = kept.ok ? kept.value.backup : null;
    const backupWrap = backup ? rewrapBackup(backup, exportKey, newExportKey!) : null;
    exportKey.fill(0);
    const r = await this.patiently(() =>
      this.call('changePassword', {
        finishLoginRequest,
        registrationRecord: registrationRecord!,
        ...(backup && backupWrap && { backupWrap, backupKeyId: backup.keyId }),
      }),
    );
    if (r.ok) this.setExportKey(newExportKey!);
    else newExportKey!.fill(0);
    if (r.ok && this.session) this.session = { ...this.session, user: { ...this.session.user, mustChangePassword: false } };
    if (r.ok && this.status !== 'ready') await this.afterLogin(false);
    return r;
  }

  /** Erases this account and everything of it on the authority (GDPR), after proving the password. */
  deleteAccount(password: string): Promise<Outcome<{ ok: true }>> {
    return this.guarded(() => this.deleteAccountSteps(password));
  }

  private async deleteAccountSteps(password: string): Promise<Outcome<{ ok: true }>> {
    const proven = await this.reauthenticate(password);
    if (!proven.ok) return proven;
    const { finishLoginRequest } = proven.value;
    proven.value.exportKey.fill(0);
    return this.patiently(() => this.call('deleteAccount', { finishLoginRequest }));
  }

  /** Ends the session (on every connection that uses it); `everywhere`: every session of this user. */
  async logout(options: { everywhere?: boolean } = {}): Promise<void> {
    if (this.rpc) await this.call('logout', options.everywhere ? { everywhere: true } : {});
    this.close();
  }

  /** Ends the connection for good (no reconnect). Idempotent. */
  close(): void {
    this.closedByUser = true;
    this.setExportKey(null);
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    const s = this.socket;
    this.socket = null;
    this.rpc?.failAll();
    this.rpc = null;
    s?.close(1000, 'client closed');
    if (this.status !== 'closed') {
      this.setStatus('closed');
      this.emit('closed', { code: 1000, reason: 'client closed' });
    }
  }

  get closeInfo(): ClosedInfo | null {
    return this.lastClose;
  }

  /** Any request, typed by the shared schema. */
  call<T extends RequestType>(type: T, params: Params<T>, timeoutMs?: number): Promise<Outcome<Result<T>>> {
    if (!this.rpc) return Promise.resolve(fail('DISCONNECTED'));
    return this.rpc.call(type, params, timeoutMs ?? this.options.requestTimeoutMs);
  }

  private async afterLogin(resumed: boolean): Promise<void> {
    if (this.session?.user.mustChangePassword) {
      this.setStatus('connected');
      return;
    }
    await this.refreshRooms();
    if (resumed) await this.syncAll();
    await this.refreshFriends();
    this.setStatus('ready');
    this.outbox.flush();
  }

  // ---------- rooms (room-sync.ts) ----------

  refreshRooms(): Promise<Outcome<RoomInfo[]>> {
    return this.roomSync.refresh();
  }

  /** Fetches everything missed since the last sequence held per room (one sync at a time). */
  syncAll(): Promise<void> {
    return this.roomSync.syncAll();
  }

  /** Older messages for scrolling up; merges them into the room and returns them. */
  loadOlder(roomName: string, limit?: number): Promise<Outcome<RoomMessage[]>> {
    return this.roomSync.loadOlder(roomName, limit);
  }

  /** Every member of a room, page after page. */
  members(room: string): Promise<Outcome<Result<'listMembers'>['members']>> {
    return allPages((after) => this.call('listMembers', { room, after }), (v) => v.members);
  }

  /** Every pending access request (admins), page after page. */
  accessRequests(): Promise<Outcome<Result<'listAccessRequests'>['requests']>> {
    return allPages((after) => this.call('listAccessRequests', { after }), (v) => v.requests);
  }

  history(room: string, before?: number, limit?: number): Promise<Outcome<Result<'fetchHistory'>>> {
    return this.call('fetchHistory', { room, before, limit });
  }

  /** The room's loaded messages, oldest first. */
  messagesOf(roomName: string): RoomMessage[] {
    return this.roomSync.messagesOf(roomName);
  }

  markRead(roomName: string): void {
    this.roomSync.markRead(roomName);
  }

  requestAccess(room: string): Promise<Outcome<Result<'requestAccess'>>> {
    return this.call('requestAccess', { room }).then(async (r) => {
      await this.refreshRooms();
      return r;
    });
  }

  // ---------- sending (outbox.ts) ----------

  /**
   * Sends a room message. It stays in the outbox as "sending" across disconnects and is
   * resent with the same id (the authority never stores it twice) until acknowledged or
   * refused for good.
   */
  post(room: string, text: string): OutgoingMessage {
    return this.outbox.post(room, text);
  }

  /** Resolves when the message is acknowledged or has failed for good. */
  settled(m: OutgoingMessage): Promise<OutgoingMessage> {
    if (m.status !== 'sending') return Promise.resolve(m);
    return new Promise((resolve) => {
      const off = this.on('outbox', (x) => {
        if (x.clientId === m.clientId && x.status !== 'sending') {
          off();
          resolve(x);
        }
      });
    });
  }

  /** Tries a failed message again (the UI's retry). */
  retry(clientId: string): void {
    this.outbox.retry(clientId);
  }

  // ---------- friends ----------

  async refreshFriends(): Promise<Outcome<FriendInfo[]>> {
    const r = await allPages((after) => this.call('listFriends', { after }), (v) => v.friends);
    if (!r.ok) return r;
    this.friends = r.value;
    this.emit('friends', this.friends);
    return { ok: true, value: this.friends };
  }

  private updateFriend(username: string, patch: Partial<FriendInfo> | null): void {
    const i = this.friends.findIndex((f) => f.username === username);
    if (patch === null) {
      if (i >= 0) this.friends.splice(i, 1);
    } else if (i >= 0) {
      this.friends[i] = { ...this.friends[i]!, ...patch };
    } else if (patch.state) {
      this.friends.push({ username, state: patch.state, online: patch.online ?? false });
      this.friends.sort((a, b) => a.username.localeCompare(b.username));
    }
    this.emit('friends', [...this.friends]);
  }

  // ---------- events from the authority ----------

  private onEvent(e: ServerEvent): void {
    switch (e.ev) {
      case 'messagePosted':
        this.roomSync.live(e);
        break;
      case 'presenceChanged':
        this.updateFriend(e.username, { online: e.online });
        break;
      case 'friendsChanged':
        this.updateFriend(e.username, e.state === 'none' ? null : { state: e.state, online: e.online });
        break;
      case 'friendRequested':
        this.updateFriend(e.username, { state: 'incoming', online: false });
        break;
      case 'accessGranted':
      case 'accessRevoked':
      case 'accessDecided':
      case 'roomCreated':
        void this.refreshRooms();
        break;
      case 'adminChanged':
        if (this.session) this.session = { ...this.session, user: { ...this.session.user, admin: e.admin } };
        void this.refreshRooms();
        break;
      default:
        break;
    }
    this.emit('event', e);
  }
}

/**
 * A list the authority sends a page at a time (LIMITS.listPageSize), whole: each page's `next`
 * is the cursor of the following one, null after the last.
 */
async function allPages<V extends { next: string | null }, T>(
  page: (after: string | undefined) => Promise<Outcome<V>>,
  items: (v: V) => T[],
): Promise<Outcome<T[]>> {
  const all: T[] = [];
  let after: string | undefined;
  for (;;) {
    const r = await page(after);
    if (!r.ok) return r;
    all.push(...items(r.value));
    // A cursor that does not move would loop for ever: the list ends there.
    if (r.value.next === null || r.value.next === after) return { ok: true, value: all };
    after = r.value.next;
  }
}

/** What a close code means for a person. */
export function closeError(code: number, reason: string): Failure {
  switch (code) {
    case CLOSE_CODES.BANNED:
      return failure('BANNED', { message: reason || undefined });
    case CLOSE_CODES.KICKED: {
      const until = Date.parse(reason.replace(/^.*until /, ''));
      return failure('KICKED', { message: reason || undefined, until: Number.isNaN(until) ? undefined : until });
    }
    case CLOSE_CODES.SESSION_ENDED:
      return failure('INVALID_SESSION', { message: reason || undefined });
    case CLOSE_CODES.SHUTDOWN:
      return failure('SHUTTING_DOWN', { message: reason || undefined });
    case CERT_MISMATCH_CLOSE:
      return failure('CERT_MISMATCH', { message: reason || undefined });
    default:
      return failure('DISCONNECTED', { message: reason ? `connection closed: ${reason}` : undefined });
  }
}
