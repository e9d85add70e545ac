/**
 * The authority's transport: HTTPS (or loopback-only HTTP) serving the web client and the
 * export route, and the WebSocket endpoint — accept, per-address limits, the login deadline,
 * pings, and the graceful stop. Each frame goes to dispatch.ts; the services it runs on
 * (store, hub, workers, group commit…) are services.ts.
 */
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { CLOSE_CODES, LIMITS } from '../../shared/protocol/index.js';
import { isLoopback, rangeHolding } from './addresses.js';
import { originAllowed } from './origins.js';
import { Connection } from './connection.js';
import type { AdminServices, PeriodicJob } from './context.js';
import { onFrame } from './dispatch.js';
import { EXPORT_PATH, handleExportRequest } from './handlers/privacy.js';
import { announcePresence } from './presence.js';
import { AuthorityServices } from './services.js';
import { loadOrCreateTls, type TlsMaterial } from './tls.js';
import { serveStatic } from './web.js';
import { parseTimeOfDay } from './backup.js';
import { removePidFile, writePidFile } from './pidfile.js';
import { Inbox } from './inbox.js';
import { SocketGuard } from './socket-guard.js';

/** ws's own hard limit; frames between LIMITS.maxFrameBytes and this get our FRAME_TOO_LARGE close. */
const WS_MAX_PAYLOAD = LIMITS.maxFrameBytes * 4;
const SWEEP_INTERVAL_MS = 60_000;
const SHUTDOWN_SOCKET_WAIT_MS = 3000;
const PING_INTERVAL_MS = 30_000;
/** Browsers that reached us over TLS keep to https for a year (no downgrade on a hostile LAN). */
const HSTS = 'max-age=31536000';

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

/** A running authority: its services, served over HTTP and WebSocket. */
export class Authority extends AuthorityServices implements AdminServices {
  private httpServer: Server | null = null;
  private wss: WebSocketServer | null = null;
  private tls: TlsMaterial | null = null;
  private nextConnId = 1;
  private stopped: Promise<void> | null = null;
  private timers: NodeJS.Timeout[] = [];
  private readonly perIp = new Map<string, number>();
  private socketGuard: SocketGuard | null = null;

  /** TCP sockets open now, upgraded or not (for the limits' tests and /threads). */
  get openSockets(): number {
    return this.socketGuard?.openSockets ?? 0;
  }

  async start(): Promise<StartedAuthority> {
    // The command line refuses this too; here it holds for every way of building a config.
    if (!this.config.tls && !isLoopback(this.config.host)) {
      throw new Error(`refusing to serve without TLS on ${this.config.host}: plaintext is allowed only on a loopback address`);
    }
    const limits = this.config.limits;
    const httpTimeouts = {
      headersTimeout: limits.requestHeadersMs,
      requestTimeout: limits.requestMs,
      keepAliveTimeout: limits.keepAliveMs,
      // How often Node checks the two deadlines above; its default (30 s) would make them coarse.
      connectionsCheckingInterval: Math.min(limits.requestHeadersMs, limits.requestMs) / 2,
    };
    const onRequest = (req: IncomingMessage, res: ServerResponse) => {
      if (this.config.tls) res.setHeader('Strict-Transport-Security', HSTS);
      if (req.url?.split('?')[0] === EXPORT_PATH) handleExportRequest(this, req, res);
      else serveStatic(this.config.webRoot, req, res);
    };
    if (this.config.tls) {
      this.tls = await loadOrCreateTls(
        this.config.dataDir,
        this.config.certFile && this.config.keyFile ? { certFile: this.config.certFile, keyFile: this.config.keyFile } : undefined,
      );
      this.httpServer = createHttpsServer(
        { cert: this.tls.cert, key: this.tls.key, handshakeTimeout: limits.tlsHandshakeMs, ...httpTimeouts },
        onRequest,
      );
    } else {
      this.httpServer = createHttpServer(httpTimeouts, onRequest);
    }
    const banExempt = this.config.banExempt;
    this.socketGuard = new SocketGuard(limits, this.log, normalizeIp, (ip) => rangeHolding(ip, banExempt) !== null);
    this.socketGuard.attach(this.httpServer, this.config.tls);
    this.wss = new WebSocketServer({
      server: this.httpServer,
      path: '/ws',
      maxPayload: WS_MAX_PAYLOAD,
      perMessageDeflate: false,
      clientTracking: false,
      verifyClient: (info, answer) => {
        const originRule = { tls: this.config.tls, allowed: this.config.allowOrigins };
        if (originAllowed(info.req.headers.origin, info.req.headers.host, originRule)) return answer(true);
        this.log.warn('ws_origin_refused', {
          ip: normalizeIp(info.req.socket.remoteAddress),
          origin: String(info.req.headers.origin).slice(0, 200),
        });
        answer(false, 403, 'origin not allowed');
      },
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
  periodicJobs(): PeriodicJob[] {
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
    const inbox = new Inbox(ws, (data, isBinary) => onFrame(this, conn, data, isBinary));
    ws.on('message', (data, isBinary) => inbox.push(data, isBinary));
    ws.on('pong', () => (conn.alive = true));
    if (this.isShuttingDown()) return conn.close(CLOSE_CODES.SHUTDOWN, 'server shutting down');
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
    for (const t of this.timers) clearInterval(t);
    this.beginShutdown();
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
    await this.closeServices();
    removePidFile(this.config.dataDir);
    this.log.info('stopped', { reason });
  }
}
