/**
 * Requests and replies over one socket: request ids, typed results parsed with the shared
 * schema, timeouts, and failure of everything in flight when the socket goes.
 */
import {
  fail,
  failure,
  parseServerFrame,
  REQUESTS,
  type Failure,
  type Outcome,
  type Params,
  type RequestType,
  type Result,
  type ServerEvent,
} from '../protocol/index.js';
import { SOCKET_OPEN, type SocketLike } from './transport.js';

export const DEFAULT_REQUEST_TIMEOUT_MS = 15_000;

interface InFlight {
  type: RequestType;
  resolve: (o: Outcome<unknown>) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class Rpc {
  private nextId = 1;
  private readonly inFlight = new Map<number, InFlight>();

  constructor(
    private readonly socket: SocketLike,
    private readonly onEvent: (e: ServerEvent) => void,
    private readonly onProtocolError: (reason: string) => void,
  ) {}

  get pending(): number {
    return this.inFlight.size;
  }

  call<T extends RequestType>(
    type: T,
    params: Params<T>,
    timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
  ): Promise<Outcome<Result<T>>> {
    if (this.socket.readyState !== SOCKET_OPEN) return Promise.resolve(fail('DISCONNECTED'));
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.inFlight.delete(id);
        resolve(fail('TIMEOUT'));
      }, timeoutMs);
      this.inFlight.set(id, { type, resolve: resolve as (o: Outcome<unknown>) => void, timer });
      try {
        this.socket.send(JSON.stringify({ id, type, ...params }));
      } catch {
        this.settle(id, fail('DISCONNECTED'));
      }
    });
  }

  private settle(id: number, outcome: Outcome<unknown>): void {
    const f = this.inFlight.get(id);
    if (!f) return;
    this.inFlight.delete(id);
    clearTimeout(f.timer);
    f.resolve(outcome);
  }

  handleFrame(raw: unknown): void {
    if (typeof raw !== 'string') return this.onProtocolError('non-text frame');
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      return this.onProtocolError('invalid JSON from server');
    }
    const parsed = parseServerFrame(json);
    if (parsed.kind === 'invalid') return this.onProtocolError(parsed.reason);
    if (parsed.kind === 'event') return this.onEvent(parsed.event);
    const frame = parsed.frame;
    if (frame.re === null) {
      if (!frame.ok) this.onProtocolError(`server refused a frame: ${frame.error.code}`);
      return;
    }
    const f = this.inFlight.get(frame.re);
    if (!f) return;
    if (!frame.ok) return this.settle(frame.re, fail(frame.error.code, frame.error));
    const result = REQUESTS[f.type].result.safeParse(frame.result);
    this.settle(
      frame.re,
      result.success ? { ok: true, value: result.data } : fail('BAD_REPLY'),
    );
  }

  /** Fails every request in flight: the socket is gone (with why, when the close code says). */
  failAll(error: Failure = failure('DISCONNECTED')): void {
    for (const id of [...this.inFlight.keys()]) this.settle(id, { ok: false, error });
  }
}
