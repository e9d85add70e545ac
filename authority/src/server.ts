/**
 * The authority: HTTPS (or loopback-only HTTP) serving the web client, and the WebSocket
 * endpoint where every frame is parsed with the shared schema before anything acts on it.
 */
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import {
  CLOSE_CODES,
  LIMITS,
  parseRequest,
  type RequestType,
} from '../../shared/protocol/index.js';
import { isLoopback, type AuthorityConfig } from './config.js';
import { Connection } from './connection.js';
import { DEFERRED, fail, type Actor, type Handler, type Services } from './context.js';
import { ADMIN_REQUESTS, ANONYMOUS_REQUESTS, HANDLERS, PASSWORD_CHANGE_REQUESTS } from './dispatch.js';
import { announcePresence } from './handlers/friends.js';
import { Hub } from './hub.js';
import { Logger } from './log.js';
import { PasswordPool } from './passwords.js';
import { Store } from './store/index.js';
import { MessageCommitter } from './committer.js';
import { KeyedBuckets, WindowCounter } from './throttle.js';
import { loadOrCreateTls, type TlsMaterial } from './tls.js';
import { serveStatic } from './web.js';
import { BackupManager, parseTimeOfDay } from './backup.js';
import { EXPORT_PATH, handleExportRequest } from './handlers/privacy.js';
import { removePidFile, writePidFile } from './pidfile.js';

const PACKAGE = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
/** Consecutive malformed frames tolerated before the connection is closed PROTOCOL_ABUSE. */
const MAX_BAD_FRAMES = 20;
/** ws's own hard limit; frames between LIMITS.maxFrameBytes and this get our FRAME_TOO_LARGE close. */
const WS_MAX_PAYLOAD = LIMITS.maxFrameBytes * 4;
const SWEEP_INTERVAL_MS = 60_000;
const SHUTDOWN_SOCKET_WAIT_MS = 3000;
const PING_INTERVAL_MS = 30_000;

const LONE_SURROGATE = /\p{Surrogate}/u;

/**
 * JSON lets a lone UTF-16 surrogate through ("\ud800"); UTF-8 storage cannot keep one (SQLite
 * would hold U+FFFD), so what was acknowledged or hashed would differ from what is stored.
 * Walks without recursion: params may nest deeply.
 */
function hasLoneSurrogate(value: unknown): boolean {
  const stack = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (LONE_SURROGATE.test(v)) return true;
    } else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (LONE_SURROGATE.test(k)) return true;
        stack.push(x);
      }
    }
  }
  return false;
}

export function normalizeIp(address: string | undefined): string {
  if (!address) return 'unknown';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

export interface StartedAuthority {
  port: number;
  url: string;
  fingerprint: string | null;
  spkiHash: string | null;
}

export class Authority implements Services {
  readonly store: Store;
  readonly hub = new Hub();
  readonly passwords: PasswordPool;
  readonly committer: MessageCommitter;
  readonly backups: BackupManager;
  readonly throttles;
  readonly serverVersion = PACKAGE.version;
  readonly startedAt = Date.now();
  private httpServer: Server | null = null;
  private wss: WebSocketServer | null = null;
  private tls: TlsMaterial | null = null;
  private nextConnId = 1;
  private shuttingDown = false;
  private stopped: Promise<void> | null = null;
  private timers: NodeJS.Timeout[] = [];
  private readonly perIp = new Map<string, number>();
  readonly counters = { framesIn: 0, badFrames: 0, handlerErrors: 0 };

  constructor(
    readonly config: AuthorityConfig,
    readonly log: Logger = new Logger(config.quiet),
  ) {
    this.store = Store.openInDir(config.dataDir);
    this.passwords = new PasswordPool(config.hashWorkers, config.scrypt);
    this.committer = new MessageCommitter(this.store, this.hub, this.log);
    this.backups = new BackupManager(this.store, config.dataDir);
    const l = config.limits;
    this.throttles = {
      loginPerAccount: new WindowCounter(l.loginFailuresPerAccount, l.loginWindowMs),
      loginPerIp: new WindowCounter(l.loginFailuresPerIp, l.loginWindowMs),
      registerPerIp: new WindowCounter(l.registrationsPerIp, l.registrationWindowMs),
      messagesPerUser: new KeyedBuckets(l.messagesPerSecond, l.messageBurst),
    };
  }

  now(): number {
    return Date.now();
  }

  isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  audit(actor: Actor, action: string, target: string | null, detail?: string): void {
    const row = this.store.audit.append({
      ts: this.now(),
      actor: actor.name,
      origin: actor.origin,
      action,
      target,
      detail: detail ?? null,
    });
    this.log.info('audit', { id: row.id, by: actor.name, from: actor.origin, action, target: target ?? undefined });
  }

  async start(): Promise<StartedAuthority> {
    // The command line refuses this too; here it holds for every way of building a config.
    if (!this.config.tls && !isLoopback(this.config.host)) {
      throw new Error(`refusing to serve without TLS on ${this.config.host}: plaintext is allowed only on a loopback address`);
    }
    const onRequest = (req: IncomingMessage, res: ServerResponse) => {
      if (req.url?.split('?')[0] === EXPORT_PATH) handleExportRequest(this, req, res);
      else serveStatic(this.config.webRoot, req, res);
    };
    if (this.config.tls) {
      this.tls = await loadOrCreateTls(
        this.config.dataDir,
        this.config.certFile && this.config.keyFile ? { certFile: this.config.certFile, keyFile: this.config.keyFile } : undefined,
      );
      this.httpServer = createHttpsServer({ cert: this.tls.cert, key: this.tls.key }, onRequest);
    } else {
      this.httpServer = createHttpServer(onRequest);
    }
    this.wss = new WebSocketServer({
      server: this.httpServer,
      path: '/ws',
      maxPayload: WS_MAX_PAYLOAD,
      perMessageDeflate: false,
      clientTracking: false,
    });
    this.wss.on('connection', (ws, req) => this.accept(ws, req));
    this.wss.on('error', (err) => this.log.error('ws_server_error', { error: err.message }));
    const server = this.httpServer;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.port, this.config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : this.config.port;
    writePidFile(this.config.dataDir);
    const daily = this.config.backupTime ? parseTimeOfDay(this.config.backupTime) : null;
    if (daily) {
      this.backups.scheduleDaily(daily, (r) => {
        if (r instanceof Error) this.log.error('backup_failed', { error: r.message });
        else this.log.info('backup_done', { file: r.file, bytes: r.bytes, ms: r.ms, removed: r.removed.length });
      });
    }
    this.timers.push(setInterval(() => this.sweep(), SWEEP_INTERVAL_MS));
    this.timers.push(setInterval(() => this.ping(), PING_INTERVAL_MS));
    for (const t of this.timers) t.unref();
    const scheme = this.config.tls ? 'wss' : 'ws';
    const shownHost = this.config.host.includes(':') ? `[${this.config.host}]` : this.config.host;
    return {
      port,
      url: `${scheme}://${shownHost}:${port}/ws`,
      fingerprint: this.tls?.fingerprint ?? null,
      spkiHash: this.tls?.spkiHash ?? null,
    };
  }

  /** The authority's periodic jobs, for /threads. */
  periodicJobs(): { name: string; everyMs: number }[] {
    if (this.timers.length === 0) return [];
    return [
      { name: 'sweep: throttles, idle sessions, expired stored DMs', everyMs: SWEEP_INTERVAL_MS },
      { name: 'ping: cut connections that stopped answering', everyMs: PING_INTERVAL_MS },
    ];
  }

  get tlsMaterial(): TlsMaterial | null {
    return this.tls;
  }

  private accept(ws: WebSocket, req: IncomingMessage): void {
    const socket = req.socket as Socket;
    const ip = normalizeIp(socket.remoteAddress);
    const conn = new Connection(this.nextConnId++, ws, socket, ip, this.config.limits.sendQueueBytes, this.hub.markDirty);
    this.hub.add(conn);
    const count = (this.perIp.get(ip) ?? 0) + 1;
    this.perIp.set(ip, count);
    ws.on('close', () => this.onClosed(conn));
    ws.on('error', (err) => this.log.warn('socket_error', { conn: conn.id, error: err.message }));
    ws.on('message', (data, isBinary) => this.onFrame(conn, data, isBinary));
    ws.on('pong', () => (conn.alive = true));
    if (this.shuttingDown) return conn.close(CLOSE_CODES.SHUTDOWN, 'server shutting down');
    if (this.store.users.isIpBanned(ip)) return conn.close(CLOSE_CODES.BANNED, 'this address is banned');
    if (count > this.config.limits.connectionsPerIp) {
      return conn.close(CLOSE_CODES.TOO_MANY_CONNECTIONS, 'too many connections from this address');
    }
    const timer = setTimeout(() => {
      if (conn.state === 'anonymous') conn.close(CLOSE_CODES.LOGIN_TIMEOUT, 'log in sooner');
    }, this.config.limits.loginTimeoutMs);
    timer.unref();
    ws.once('close', () => clearTimeout(timer));
  }

  private onClosed(conn: Connection): void {
    conn.markClosed();
    const n = (this.perIp.get(conn.ip) ?? 1) - 1;
    if (n <= 0) this.perIp.delete(conn.ip);
    else this.perIp.set(conn.ip, n);
    const last = this.hub.remove(conn);
    if (conn.user && last) announcePresence(this, conn.user.id, false);
  }

  private onFrame(conn: Connection, data: RawData, isBinary: boolean): void {
    if (conn.state === 'closed') return;
    this.counters.framesIn++;
    conn.messagesIn++;
    const bytes = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : data.byteLength;
    if (bytes > LIMITS.maxFrameBytes) {
      return conn.close(CLOSE_CODES.FRAME_TOO_LARGE, `frames are at most ${LIMITS.maxFrameBytes} bytes`);
    }
    if (isBinary) return this.badFrame(conn, null, 'binary frames are not part of the protocol');
    let json: unknown;
    try {
      json = JSON.parse(data.toString());
    } catch {
      return this.badFrame(conn, null, 'frame is not valid JSON');
    }
    const parsed = parseRequest(json);
    if (!parsed.ok) return this.badFrame(conn, parsed.id, parsed.reason);
    if (hasLoneSurrogate(parsed.params)) return this.badFrame(conn, parsed.id, 'strings must be well-formed Unicode (a lone surrogate)');
    conn.badFrames = 0;
    this.dispatch(conn, parsed.id, parsed.type, parsed.params);
  }

  private badFrame(conn: Connection, id: number | null, reason: string): void {
    this.counters.badFrames++;
    conn.fail(id, 'BAD_REQUEST', { message: `bad request: ${reason}` });
    if (++conn.badFrames >= MAX_BAD_FRAMES) conn.close(CLOSE_CODES.PROTOCOL_ABUSE, 'too many malformed frames');
  }

  private dispatch(conn: Connection, id: number, type: RequestType, params: unknown): void {
    const gate = this.gate(conn, type);
    if (gate) return conn.replyError(id, gate.error);
    const handler = HANDLERS[type] as Handler<RequestType>;
    let answer;
    try {
      answer = handler(this, conn, params as never, id);
    } catch (err) {
      return this.handlerFailed(conn, id, type, err);
    }
    if (answer instanceof Promise) {
      answer.then(
        (a) => this.answer(conn, id, a),
        (err: unknown) => this.handlerFailed(conn, id, type, err),
      );
    } else {
      this.answer(conn, id, answer);
    }
  }

  private gate(conn: Connection, type: RequestType) {
    if (ANONYMOUS_REQUESTS.has(type)) return null;
    if (conn.state !== 'authenticated' || !conn.user) return fail('NOT_AUTHENTICATED');
    if (conn.user.mustChangePassword && !PASSWORD_CHANGE_REQUESTS.has(type)) return fail('PASSWORD_CHANGE_REQUIRED');
    if (ADMIN_REQUESTS.has(type) && !conn.user.admin) return fail('NOT_ADMIN');
    if (this.shuttingDown && type === 'postMessage') return fail('SHUTTING_DOWN');
    return null;
  }

  private answer(conn: Connection, id: number, a: unknown): void {
    if (a === DEFERRED) return;
    const outcome = a as { ok: true; value: unknown } | { ok: false; error: never };
    if (outcome.ok) conn.reply(id, outcome.value);
    else conn.replyError(id, outcome.error);
  }

  private handlerFailed(conn: Connection, id: number, type: string, err: unknown): void {
    this.counters.handlerErrors++;
    this.log.error('handler_failed', { type, conn: conn.id, error: (err as Error)?.message ?? String(err) });
    conn.fail(id, 'INTERNAL');
  }

  private sweep(): void {
    const now = Date.now();
    for (const t of Object.values(this.throttles)) t.sweep(now);
    this.store.users.expireSessions(now - this.config.limits.sessionIdleMs);
    this.store.dms.expire(now - this.config.limits.storedDmMaxAgeMs);
  }

  /** Cuts connections that stopped answering pings (a laptop lid closed, a cable pulled). */
  private ping(): void {
    for (const c of this.hub.connections) {
      if (!c.alive) {
        c.ws.terminate();
        continue;
      }
      c.alive = false;
      try {
        c.ws.ping();
      } catch {
        /* the close handler cleans up */
      }
    }
  }

  /**
   * Graceful stop: refuse new work, commit what is queued (those senders get their acks),
   * tell every client why, wait briefly for sockets to close, checkpoint the WAL, exit.
   * Idempotent: every caller gets the same promise.
   */
  stop(reason = 'server shutting down'): Promise<void> {
    this.stopped ??= this.doStop(reason);
    return this.stopped;
  }

  private async doStop(reason: string): Promise<void> {
    this.shuttingDown = true;
    for (const t of this.timers) clearInterval(t);
    this.backups.stop();
    this.committer.flush();
    this.hub.flush();
    const closing = [...this.hub.connections].map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.ws.readyState === c.ws.CLOSED) return resolve();
          c.ws.once('close', () => resolve());
          c.close(CLOSE_CODES.SHUTDOWN, reason);
        }),
    );
    const server = this.httpServer;
    const serverClosed = server
      ? new Promise<void>((resolve) => server.close(() => resolve()))
      : Promise.resolve();
    await Promise.race([Promise.all(closing), new Promise((r) => setTimeout(r, SHUTDOWN_SOCKET_WAIT_MS))]);
    for (const c of this.hub.connections) c.ws.terminate();
    server?.closeAllConnections?.();
    await serverClosed;
    this.wss?.close();
    this.committer.flush();
    this.store.close();
    await this.passwords.close();
    removePidFile(this.config.dataDir);
    this.log.info('stopped', { reason });
  }
}
