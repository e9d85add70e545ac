/**
 * A bare WebSocket to the authority (real TLS), for frames the client core would never send:
 * it counts what comes back — replies, events, the close code — and never parses for a caller.
 */
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import { finishLogin, finishRegistration, startLogin, startRegistration } from '../../../shared/crypto/opaque.js';
import type { OpaqueKsf } from '../../../shared/protocol/index.js';
import { LOADED_MS } from '../../helpers/timing.js';

export interface RawReply {
  re: number | null;
  ok: boolean;
  result?: unknown;
  error?: { code: string; message: string; until?: number };
}

export class RawConn {
  readonly replies: RawReply[] = [];
  readonly events: Record<string, unknown>[] = [];
  /** Frames the server sent that were not JSON objects (must stay empty). */
  readonly unreadable: string[] = [];
  closeCode: number | null = null;
  closeReason = '';
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly opened: Promise<void>;
  private waiters: (() => void)[] = [];

  constructor(
    readonly url: string,
    readonly ws = new WebSocket(url, { rejectUnauthorized: false, perMessageDeflate: false, maxPayload: 16 * 1024 * 1024 }),
  ) {
    this.opened = new Promise((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('close', (code) => reject(new Error(`closed ${code} before opening`)));
    });
    this.opened.catch(() => {});
    ws.on('error', () => {}); // the close event carries what happened
    ws.on('message', (data, isBinary) => {
      const text = data.toString();
      let frame: unknown;
      try {
        frame = isBinary ? undefined : JSON.parse(text);
      } catch {
        frame = undefined;
      }
      if (frame && typeof frame === 'object' && !Array.isArray(frame)) {
        const f = frame as Record<string, unknown>;
        if ('re' in f) this.replies.push(f as unknown as RawReply);
        else this.events.push(f);
      } else {
        this.unreadable.push(text.slice(0, 200));
      }
      this.wake();
    });
    this.closed = new Promise((resolve) =>
      ws.once('close', (code, reason) => {
        this.closeCode = code;
        this.closeReason = reason.toString();
        this.wake();
        resolve({ code, reason: this.closeReason });
      }),
    );
  }

  /** `localAddress`: a loopback source of its own (127.0.0.2, …), for tests of per-address limits. */
  static async open(url: string, options: { localAddress?: string } = {}): Promise<RawConn> {
    const c = new RawConn(
      url,
      new WebSocket(url, { rejectUnauthorized: false, perMessageDeflate: false, maxPayload: 16 * 1024 * 1024, localAddress: options.localAddress }),
    );
    await c.opened;
    return c;
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** The TCP socket under TLS: pausing it stops reading, as a stalled client would. */
  get tcp(): Socket {
    return (this.ws as unknown as { _socket: Socket })._socket;
  }

  send(frame: string | Buffer, binary = false): void {
    if (this.isOpen) this.ws.send(frame, { binary });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves true when the predicate holds, false at the timeout or when the socket closed first. */
  async until(predicate: () => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (this.closeCode !== null || Date.now() > deadline) return predicate();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, Math.min(250, deadline - Date.now())));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return true;
  }

  /** Sends one request and waits for the reply to its id. */
  async request(id: number, type: string, params: Record<string, unknown> = {}, timeoutMs = LOADED_MS): Promise<RawReply> {
    this.send(JSON.stringify({ id, type, ...params }));
    const found = () => this.replies.find((r) => r.re === id);
    if (!(await this.until(() => found() !== undefined, timeoutMs))) {
      throw new Error(`no reply to ${type} #${id} (closed: ${this.closeCode ?? 'no'})`);
    }
    return found()!;
  }

  /**
   * Logs in as the client core does, both halves of OPAQUE (requests `id` and `id + 1`): the
   * last reply, or the first when it refused; a wrong password gives a reply of its own making,
   * WRONG_CREDENTIALS with `re: null` (the client finds it out alone; nothing more is sent).
   */
  async login(username: string, password: string, id = 1, extra: Record<string, unknown> = {}): Promise<RawReply> {
    const started = await startLogin(password);
    const first = await this.request(id, 'loginStart', { username, startLoginRequest: started.request, ...extra });
    if (!first.ok) return first;
    const r = first.result as { loginResponse: string; ksf: OpaqueKsf };
    const proof = await finishLogin(started, r.loginResponse, password, r.ksf);
    if (!proof) return { re: null, ok: false, error: { code: 'WRONG_CREDENTIALS', message: 'the password does not open the response' } };
    return this.request(id + 1, 'loginFinish', { finishLoginRequest: proof.finishLoginRequest });
  }

  /** Registers as the client core does (requests `id` and `id + 1`), without its password policy check. */
  async register(username: string, password: string, id = 1, extra: Record<string, unknown> = {}): Promise<RawReply> {
    const started = await startRegistration(password);
    const first = await this.request(id, 'registerStart', { username, registrationRequest: started.request, ...extra });
    if (!first.ok) return first;
    const r = first.result as { registrationResponse: string; ksf: OpaqueKsf };
    const record = await finishRegistration(started, r.registrationResponse, password, r.ksf);
    if (!record) throw new Error('the registration response does not verify');
    return this.request(id + 1, 'registerFinish', { registrationRecord: record.record });
  }

  close(): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
  }
}
