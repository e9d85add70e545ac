/**
 * Limits at TCP accept, before TLS and HTTP: sockets per address and in all (a slow TLS client
 * holds a descriptor as surely as a logged-in one), new sockets per address per second (each
 * costs the authority a TLS handshake: a client reconnecting in a loop pays, not everyone), and a deadline for a socket that completed
 * TLS but never sends a request or upgrades. Over a limit the socket is destroyed at once;
 * refusals are logged at most once per LOG_EVERY_MS with the count since the last line.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from './log.js';
import { KeyedBuckets } from './throttle.js';

const LOG_EVERY_MS = 10_000;

export interface SocketGuardLimits {
  socketsPerIp: number;
  maxSockets: number;
  /** New sockets an address may open per second, and in a burst: each costs a TLS handshake. */
  newSocketsPerSecondPerIp: number;
  newSocketBurstPerIp: number;
  firstRequestMs: number;
}

type RefusedBy = 'per_address' | 'total' | 'rate';

/** How often buckets that refilled are forgotten. */
const SWEEP_EVERY_MS = 60_000;

export class SocketGuard {
  private readonly perIp = new Map<string, number>();
  private readonly newSockets: KeyedBuckets;
  private lastSweep = Date.now();
  private total = 0;
  private refused = 0;
  private lastLog = 0;
  /** Sockets (as HTTP sees them: the TLS socket when TLS is on) still waiting for their first request. */
  private readonly waiting = new WeakMap<Socket, NodeJS.Timeout>();

  constructor(
    private readonly limits: SocketGuardLimits,
    private readonly log: Logger,
    private readonly normalizeIp: (address: string | undefined) => string,
    /** Addresses declared shared (--ban-exempt: a NAT gateway, a terminal server): no rate for them. */
    private readonly shared: (ip: string) => boolean = () => false,
  ) {
    this.newSockets = new KeyedBuckets(limits.newSocketsPerSecondPerIp, limits.newSocketBurstPerIp);
  }

  /**
   * Hooks the server: counts at 'connection', arms the first-request deadline at the socket HTTP
   * reads. The server's own 'connection' listeners (TLS's, which wraps the socket and starts a
   * handshake; HTTP's, which makes a parser) run only for a socket the guard let in: a refused
   * one is closed as it came, before any of that is built. A client opening 200 sockets at once
   * from a refused address (the abuse soak's floods) stalled everyone's requests 20–80 ms at a
   * time while the server wrapped and unwrapped each of them.
   */
  attach(server: Server, tls: boolean): void {
    const own = server.listeners('connection') as ((socket: Socket) => void)[];
    server.removeAllListeners('connection');
    server.on('connection', (socket: Socket) => {
      if (!this.accepted(socket)) return;
      for (const listener of own) listener.call(server, socket);
    });
    server.on(tls ? 'secureConnection' : 'connection', (socket: Socket) => this.armFirstRequest(socket));
    server.on('request', (req) => this.served(req.socket as Socket));
    server.on('upgrade', (req) => this.served(req.socket as Socket));
  }

  get openSockets(): number {
    return this.total;
  }

  /** True when the socket may go on; false when it was refused (and destroyed). */
  private accepted(socket: Socket): boolean {
    const ip = this.normalizeIp(socket.remoteAddress);
    const n = this.perIp.get(ip) ?? 0;
    const now = Date.now();
    if (now - this.lastSweep > SWEEP_EVERY_MS) {
      this.newSockets.sweep(now);
      this.lastSweep = now;
    }
    const limit = this.limitReached(ip, n, now);
    if (limit) {
      socket.destroy();
      this.noteRefusal(ip, limit);
      return false;
    }
    this.perIp.set(ip, n + 1);
    this.total++;
    socket.once('close', () => {
      this.total--;
      const left = (this.perIp.get(ip) ?? 1) - 1;
      if (left <= 0) this.perIp.delete(ip);
      else this.perIp.set(ip, left);
    });
    return true;
  }

  /** The limit a new socket from `ip` (holding `n` already) is over, or null. */
  private limitReached(ip: string, n: number, now: number): RefusedBy | null {
    if (n >= this.limits.socketsPerIp) return 'per_address';
    if (this.total >= this.limits.maxSockets) return 'total';
    if (!this.shared(ip) && !this.newSockets.take(ip, now).ok) return 'rate';
    return null;
  }

  private armFirstRequest(socket: Socket): void {
    if (socket.destroyed || this.waiting.has(socket)) return;
    const timer = setTimeout(() => socket.destroy(), this.limits.firstRequestMs);
    timer.unref();
    this.waiting.set(socket, timer);
    socket.once('close', () => clearTimeout(timer));
  }

  private served(socket: Socket): void {
    const timer = this.waiting.get(socket);
    if (timer) clearTimeout(timer);
  }

  private noteRefusal(ip: string, limit: RefusedBy): void {
    this.refused++;
    const now = Date.now();
    if (now - this.lastLog < LOG_EVERY_MS) return;
    this.log.warn('sockets_refused', { limit, ip, count: this.refused, open: this.total });
    this.refused = 0;
    this.lastLog = now;
  }
}
