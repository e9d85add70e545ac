/**
 * The headless CHandler client: one session with the authority over an injected WebSocket.
 * It keeps the state a user sees (rooms, their messages, friends), sends room messages with
 * ack and retry, and reconnects by itself with jittered backoff, resuming without gaps or
 * duplicates. The desktop UI, the CLI, the tests and the benchmarks all use it.
 *
 * Status: offline → connecting → connected → ready ⇄ reconnecting; closed is terminal
 * (logged out, banned, kicked, session invalid, or close() called).
 */
import {
  CLOSE_CODES,
  fail,
  failure,
  LIMITS,
  TERMINAL_CLOSE_CODES,
  type FriendInfo,
  type Params,
  type RequestType,
  type Result,
  type RoomInfo,
  type RoomMessage,
  type Failure,
  type Outcome,
  type ServerEvent,
  type SessionInfo,
} from '../protocol/index.js';
import { publicRandomBytes } from '../crypto/random.js';
import { Emitter } from './emitter.js';
import { isTransient, rateLimitDelay } from './retry.js';
import { Rpc } from './rpc.js';
import { CERT_MISMATCH_CLOSE, type SocketFactory, type SocketLike } from './transport.js';

export type ClientStatus = 'offline' | 'connecting' | 'connected' | 'ready' | 'reconnecting' | 'closed';

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

export interface RoomState {
  info: RoomInfo;
  /** Loaded messages by sequence number. */
  messages: Map<number, RoomMessage>;
  /** Highest sequence number held with nothing missing after the first loaded one. */
  lastSeq: number;
  /** Lowest loaded sequence number (history pages go below it). */
  oldestSeq: number;
  hasOlder: boolean;
  unread: number;
}

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
  /** Random source, injectable for tests of the id generator. */
  random?: () => number;
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
  readonly rooms = new Map<string, RoomState>();
  friends: FriendInfo[] = [];
  readonly outbox = new Map<string, OutgoingMessage>();
  private socket: SocketLike | null = null;
  private rpc: Rpc | null = null;
  private attempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private closedByUser = false;
  private lastClose: ClosedInfo | null = null;
  private syncing: Promise<void> | null = null;
  private syncAgain = false;

  constructor(private readonly options: ClientOptions) {
    super();
  }

  get username(): string | null {
    return this.session?.user.username ?? null;
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
    for (const m of this.outbox.values()) if (m.status === 'sending') this.emit('outbox', m);
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

  private async authenticate(
    type: 'register' | 'login',
    username: string,
    password: string,
  ): Promise<Outcome<SessionInfo>> {
    this.closedByUser = false;
    const opened = await this.connect();
    if (!opened.ok) return opened;
    const r = await this.call(type, { username, password, clientVersion: this.options.clientVersion });
    if (!r.ok) return r;
    this.session = r.value;
    this.attempt = 0;
    this.emit('session', r.value);
    await this.afterLogin(false);
    return r;
  }

  register(username: string, password: string): Promise<Outcome<SessionInfo>> {
    return this.authenticate('register', username, password);
  }

  login(username: string, password: string): Promise<Outcome<SessionInfo>> {
    return this.authenticate('login', username, password);
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

  async changePassword(oldPassword: string, newPassword: string): Promise<Outcome<{ ok: true }>> {
    const r = await this.call('changePassword', { oldPassword, newPassword });
    if (r.ok && this.session) this.session = { ...this.session, user: { ...this.session.user, mustChangePassword: false } };
    if (r.ok && this.status !== 'ready') await this.afterLogin(false);
    return r;
  }

  async logout(): Promise<void> {
    if (this.rpc) await this.call('logout', {});
    this.close();
  }

  /** Ends the connection for good (no reconnect). Idempotent. */
  close(): void {
    this.closedByUser = true;
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
    return this.rpc.call(type, params, timeoutMs);
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
    this.flushOutbox();
  }

  // ---------- rooms ----------

  async refreshRooms(): Promise<Outcome<RoomInfo[]>> {
    const r = await this.call('listRooms', {});
    if (!r.ok) return r;
    for (const info of r.value.rooms) {
      const known = this.rooms.get(info.name);
      if (known) {
        const joined = known.info.access !== 'member' && info.access === 'member';
        known.info = info;
        if (info.access !== 'member') {
          known.messages.clear();
          known.lastSeq = 0;
          known.oldestSeq = 0;
        } else if (joined) {
          // Just let in: live from "now", like a room first seen (older messages come by pages).
          known.lastSeq = info.lastSeq;
          known.oldestSeq = info.lastSeq + 1;
          known.hasOlder = info.lastSeq > 0;
          while (known.messages.has(known.lastSeq + 1)) known.lastSeq++;
        }
      } else {
        this.rooms.set(info.name, {
          info,
          messages: new Map(),
          // Start live from "now": older messages come by history pages.
          lastSeq: info.access === 'member' ? info.lastSeq : 0,
          oldestSeq: info.lastSeq + 1,
          hasOlder: info.lastSeq > 0,
          unread: 0,
        });
      }
    }
    this.emit('rooms', [...this.rooms.values()]);
    return { ok: true, value: r.value.rooms };
  }

  /**
   * Fetches everything missed since the last sequence held per room, page by page. One sync
   * runs at a time: a call while one runs makes it go round once more (a gap seen meanwhile).
   */
  syncAll(): Promise<void> {
    if (this.syncing) {
      this.syncAgain = true;
      return this.syncing;
    }
    this.syncing = (async () => {
      do {
        this.syncAgain = false;
        await this.syncOnce();
      } while (this.syncAgain && this.rpc);
    })().finally(() => (this.syncing = null));
    return this.syncing;
  }

  private async syncOnce(): Promise<void> {
    let cursors = this.memberCursors();
    let filledRooms = 0;
    let filled = 0;
    while (Object.keys(cursors).length > 0) {
      const r = await this.call('syncRooms', { cursors, limit: LIMITS.maxPageSize });
      if (!r.ok) return;
      const next: Record<string, number> = {};
      for (const page of r.value.rooms) {
        if (page.messages.length) filledRooms++;
        for (const m of page.messages) if (this.accept(m, false)) filled++;
        const held = this.rooms.get(page.room)?.lastSeq ?? 0;
        if (page.hasMore && held > (cursors[page.room] ?? 0)) next[page.room] = held;
      }
      cursors = next;
    }
    this.emit('resynced', { rooms: filledRooms, messages: filled });
  }

  private memberCursors(): Record<string, number> {
    const cursors: Record<string, number> = {};
    for (const [name, r] of this.rooms) if (r.info.access === 'member') cursors[name] = r.lastSeq;
    return cursors;
  }

  /**
   * Adds a message if new; true when it was. lastSeq moves only over an unbroken run, so a
   * message that arrives past a gap never hides the gap from the next sync.
   */
  private accept(m: RoomMessage, live: boolean): boolean {
    const room = this.rooms.get(m.room);
    if (!room || room.messages.has(m.seq)) return false;
    if (m.seq <= room.lastSeq && m.seq >= room.oldestSeq) return false; // already seen and evicted
    room.messages.set(m.seq, m);
    while (room.messages.has(room.lastSeq + 1)) room.lastSeq++;
    if (m.seq < room.oldestSeq) room.oldestSeq = m.seq;
    room.info.lastSeq = Math.max(room.info.lastSeq, m.seq);
    if (m.author !== this.username) room.unread++;
    this.emit('message', m);
    void live;
    return true;
  }

  /** Older messages for scrolling up; merges them into the room and returns them. */
  async loadOlder(roomName: string, limit: number = LIMITS.defaultPageSize): Promise<Outcome<RoomMessage[]>> {
    const room = this.rooms.get(roomName);
    if (!room) return fail('UNKNOWN_ROOM');
    const r = await this.call('fetchHistory', { room: roomName, before: room.oldestSeq, limit });
    if (!r.ok) return r;
    for (const m of r.value.messages) {
      if (!room.messages.has(m.seq)) room.messages.set(m.seq, m);
      if (m.seq < room.oldestSeq) room.oldestSeq = m.seq;
    }
    room.hasOlder = r.value.hasMore;
    return { ok: true, value: r.value.messages };
  }

  history(room: string, before?: number, limit?: number): Promise<Outcome<Result<'fetchHistory'>>> {
    return this.call('fetchHistory', { room, before, limit });
  }

  /** The room's loaded messages, oldest first. */
  messagesOf(roomName: string): RoomMessage[] {
    const room = this.rooms.get(roomName);
    return room ? [...room.messages.values()].sort((a, b) => a.seq - b.seq) : [];
  }

  markRead(roomName: string): void {
    const room = this.rooms.get(roomName);
    if (room && room.unread) {
      room.unread = 0;
      this.emit('rooms', [...this.rooms.values()]);
    }
  }

  requestAccess(room: string): Promise<Outcome<Result<'requestAccess'>>> {
    return this.call('requestAccess', { room }).then(async (r) => {
      await this.refreshRooms();
      return r;
    });
  }

  // ---------- sending ----------

  /**
   * Sends a room message. It stays in the outbox as "sending" across disconnects and is
   * resent with the same id (the authority never stores it twice) until acknowledged or
   * refused for good.
   */
  post(room: string, text: string): OutgoingMessage {
    const m: OutgoingMessage = {
      clientId: newClientId(this.options.random),
      room,
      text,
      status: 'sending',
      createdAt: Date.now(),
    };
    this.outbox.set(m.clientId, m);
    this.emit('outbox', m);
    void this.trySend(m);
    return m;
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
    const m = this.outbox.get(clientId);
    if (!m || m.status !== 'failed') return;
    m.status = 'sending';
    m.error = undefined;
    this.emit('outbox', m);
    void this.trySend(m);
  }

  private async trySend(m: OutgoingMessage): Promise<void> {
    if (this.status !== 'ready') return; // flushOutbox sends it once the session is back
    const r = await this.call('postMessage', { room: m.room, clientId: m.clientId, text: m.text });
    if (m.status !== 'sending') return;
    if (r.ok) {
      m.status = 'sent';
      m.seq = r.value.seq;
      this.outbox.delete(m.clientId);
      this.emit('outbox', m);
      return;
    }
    if (r.error.code === 'RATE_LIMITED') {
      setTimeout(() => void this.trySend(m), rateLimitDelay(r.error));
      return;
    }
    if (isTransient(r.error.code)) return; // resent after the reconnect
    m.status = 'failed';
    m.error = r.error;
    this.emit('outbox', m);
  }

  private flushOutbox(): void {
    const waiting = [...this.outbox.values()].filter((m) => m.status === 'sending').sort((a, b) => a.createdAt - b.createdAt);
    for (const m of waiting) void this.trySend(m);
  }

  // ---------- friends ----------

  async refreshFriends(): Promise<Outcome<FriendInfo[]>> {
    const r = await this.call('listFriends', {});
    if (!r.ok) return r;
    this.friends = r.value.friends;
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
      case 'messagePosted': {
        const room = this.rooms.get(e.room);
        if (room && room.info.access === 'member' && e.seq > room.lastSeq + 1) {
          // A gap (we were cut off as a slow reader, or a frame got lost): fetch what is missing.
          void this.syncAll();
        }
        this.accept(e, true);
        break;
      }
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
