/**
 * The control socket: a Unix socket in the data directory, mode 0600, so that only the
 * authority's own account (and root) can connect — the kernel checks the file's permissions
 * on connect. chandler-admin runs the console's commands through it against a running service.
 */
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { userInfo } from 'node:os';
import type { Actor, AdminServices } from '../context.js';
import { runWords } from './commands/index.js';
import type { AdminContext, AdminIo } from './commands/types.js';
import { ControlRequest, controlSocketPath, MAX_CONTROL_REQUEST_BYTES, type ControlReply } from './control-wire.js';

/** Owner read/write only. */
const SOCKET_MODE = 0o600;
const SOCKET_UMASK = 0o177;
/** A client that sends nothing for this long is cut. */
const IDLE_TIMEOUT_MS = 30_000;
/** How long a probe of a leftover socket file waits for an answer. */
const PROBE_TIMEOUT_MS = 1000;

/** True when something answers on the socket file (another authority on this data dir). */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path);
    const timer = setTimeout(() => finish(false), PROBE_TIMEOUT_MS);
    const finish = (alive: boolean) => {
      clearTimeout(timer);
      probe.destroy();
      resolve(alive);
    };
    probe.once('connect', () => finish(true));
    probe.once('error', () => finish(false));
  });
}

export class ControlServer {
  private readonly sockets = new Set<Socket>();
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly server: Server,
    private readonly authority: AdminServices,
  ) {}

  /**
   * Listens on <dataDir>/admin.sock. A leftover file from a crashed authority is replaced;
   * a socket that still answers means another authority uses this data directory: refused.
   */
  static async listen(
    authority: AdminServices,
    dataDir: string,
    shutdown: (reason: string, actor: Actor) => void,
  ): Promise<ControlServer> {
    const path = controlSocketPath(dataDir);
    let exists = false;
    try {
      exists = lstatSync(path).isSocket();
    } catch {
      /* no leftover */
    }
    if (exists) {
      if (await answers(path)) {
        throw new Error(`another authority is running on ${dataDir} (its control socket ${path} answers)`);
      }
      unlinkSync(path);
    }
    const actor: Actor = { name: userInfo().username, origin: 'control socket' };
    const server = createServer((socket) => control.accept(socket, actor, shutdown));
    const control = new ControlServer(path, server, authority);
    const listening = new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.once('listening', () => {
        server.off('error', reject);
        resolve();
      });
    });
    // The socket file takes the umask's permissions: owner-only from birth, not after a chmod
    // race. listen() binds synchronously, so the narrowed umask covers nothing else.
    const previous = process.umask(SOCKET_UMASK);
    try {
      server.listen(path);
    } finally {
      process.umask(previous);
    }
    await listening;
    chmodSync(path, SOCKET_MODE);
    server.on('error', (err) => authority.log.error('control_socket_error', { error: err.message }));
    return control;
  }

  private accept(socket: Socket, actor: Actor, shutdown: (reason: string, actor: Actor) => void): void {
    if (this.closed) return void socket.destroy();
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.setTimeout(IDLE_TIMEOUT_MS, () => socket.destroy());
    socket.on('error', () => socket.destroy());
    let buffered = '';
    let handled = false;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      if (handled) return;
      buffered += chunk;
      const end = buffered.indexOf('\n');
      if (end < 0) {
        if (Buffer.byteLength(buffered) > MAX_CONTROL_REQUEST_BYTES) {
          handled = true;
          this.reply(socket, { ok: false, text: 'error: request too large' });
        }
        return;
      }
      handled = true;
      void this.handle(socket, buffered.slice(0, end), actor, shutdown);
    });
  }

  private async handle(
    socket: Socket,
    line: string,
    actor: Actor,
    shutdown: (reason: string, actor: Actor) => void,
  ): Promise<void> {
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      return this.reply(socket, { ok: false, text: 'error: the request is not JSON' });
    }
    const req = ControlRequest.safeParse(json);
    if (!req.success) return this.reply(socket, { ok: false, text: 'error: malformed control request (is chandler-admin the same version?)' });
    const io: AdminIo = {
      interactive: false,
      confirm: async () => false,
      secret: async () => req.data.secret ?? null,
    };
    let stopReason: string | null = null;
    const ctx: AdminContext = {
      services: this.authority,
      actor,
      io,
      shutdown: (reason) => (stopReason = reason),
    };
    const reply = (await runWords(ctx, req.data.words)) ?? { ok: false, text: 'error: empty command' };
    this.reply(socket, reply, () => {
      if (stopReason !== null) shutdown(stopReason, actor);
    });
  }

  private reply(socket: Socket, reply: ControlReply, then?: () => void): void {
    socket.end(`${JSON.stringify(reply)}\n`, then);
  }

  /** Idempotent: stops listening, cuts clients, removes the socket file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    try {
      unlinkSync(this.path);
    } catch {
      /* already gone */
    }
  }
}
