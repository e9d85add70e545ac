/**
 * Child process: many cheap WebSocket clients (the `ws` package, no client core, no schema
 * parsing on the hot path). Sends open-loop on a fixed schedule and writes each message's
 * intended send time (the shared monotonic clock) into its text, so latency is measured from
 * when the message was due, not from when a late generator got round to it. Counts, per
 * (sender, receiver), unique deliveries, duplicates and gaps.
 *
 * Message text (100 bytes): "<sender>.<n>.<due µs>." padded with 'x'; n counts up per sender
 * across steps, so client ids stay unique for the authority's de-duplication.
 */
import type { TLSSocket } from 'node:tls';
import WebSocket from 'ws';
import { nowUs, sleep } from '../clock.js';
import { Histogram, serialize } from '../histogram.js';
import { serve } from '../ipc.js';
import { measureKeyLog, readKeyLogHead, type Request } from './key-log.js';
import { logIn, resume, type Ask } from './login.js';
import type {
  ClientSpec,
  ConnectReply,
  DrainBody,
  DrainReply,
  HistoryBody,
  HistoryReply,
  KeyLogBody,
  SentReply,
  SetupBody,
  StepBody,
  StormBody,
  StormReply,
  Target,
} from './protocol.js';

export const TEXT_BYTES = 100;
const PAD = 'x'.repeat(TEXT_BYTES);
const TEXT_KEY = Buffer.from('"text":"');
const CH_DOT = 0x2e;
const CH_COMMA = 0x2c;
const CH_E = 0x65;
const CH_R = 0x72;
const CH_M = 0x6d;
const CH_T = 0x74;
const CONNECT_TIMEOUT_MS = 30_000;
const REQUEST_TIMEOUT_MS = 30_000;
const TICK_MS = 1;

type Waiter = (frame: Buffer, atUs: number) => void;

interface Config {
  url: string;
  target: Target;
  fingerprint: string | null;
  roomOfSender: Int32Array;
}

class StepCounters {
  unique = 0;
  dup = 0;
  gap = 0;
  acks = 0;
  readonly latency = new Histogram();
  readonly ack = new Histogram();
  errors: Record<string, number> = {};
  closes: Record<string, number> = {};

  reset(): void {
    this.unique = this.dup = this.gap = this.acks = 0;
    this.latency.reset();
    this.ack.reset();
    this.errors = {};
    this.closes = {};
  }
}

const counters = new StepCounters();

function bump(map: Record<string, number>, key: string): void {
  map[key] = (map[key] ?? 0) + 1;
}

function errorCode(frame: Buffer): string {
  try {
    const parsed = JSON.parse(frame.toString()) as { error?: { code?: string } };
    return parsed.error?.code ?? 'UNKNOWN';
  } catch {
    return 'UNPARSABLE';
  }
}

/** `localAddress`: the address to connect from (by default, the system's choice). */
function openSocket(url: string, localAddress?: string): WebSocket {
  return new WebSocket(url, {
    localAddress,
    perMessageDeflate: false,
    skipUTF8Validation: true,
    rejectUnauthorized: false, // replaced by the fingerprint pin: see pinned()
    handshakeTimeout: CONNECT_TIMEOUT_MS,
    maxPayload: 16 * 1024 * 1024,
  });
}

/** Once open: is the server's certificate the one the bench started (TLS), or is it plaintext? */
function pinned(ws: WebSocket, fingerprint: string | null): boolean {
  if (fingerprint === null) return true;
  const socket = (ws as unknown as { _socket: TLSSocket | null })._socket;
  return socket?.getPeerCertificate?.().fingerprint256 === fingerprint;
}

/**
 * Server-to-client frames, read straight off the socket once `ws` has done the handshake: the
 * generator must stay cheaper than the servers it measures, and ws's general-purpose receiver
 * (a Writable stream and two events per message) is not. Server frames are never masked; our
 * servers do not fragment; a close frame or anything unexpected ends the connection.
 */
const OP_TEXT = 0x1;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const FIN = 0x80;

class Client {
  ws: WebSocket | null = null;
  ready = false;
  nextId = 1;
  /** Messages this client has sent, over the whole run. */
  n = 0;
  readonly last: Int32Array;
  readonly acks = new Map<number, number>();
  readonly waiters = new Map<number, Waiter>();
  readonly roomJson: string;
  private rest: Buffer | null = null;

  constructor(
    readonly spec: ClientSpec,
    senders: number,
  ) {
    this.last = new Int32Array(senders);
    this.roomJson = JSON.stringify(spec.room);
  }

  async connect(cfg: Config): Promise<void> {
    this.ready = false;
    this.acks.clear();
    this.rest = null;
    const ws = openSocket(cfg.url);
    this.ws = ws;
    ws.on('error', () => undefined);
    ws.on('close', () => this.onClosed(1006));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('CONNECT_TIMEOUT')), CONNECT_TIMEOUT_MS);
      ws.once('open', () => {
        clearTimeout(timer);
        if (!pinned(ws, cfg.fingerprint)) {
          ws.terminate();
          return reject(new Error('CERTIFICATE_MISMATCH'));
        }
        const socket = (ws as unknown as { _socket: import('node:net').Socket })._socket;
        for (const l of socket.listeners('data')) socket.removeListener('data', l as (b: Buffer) => void);
        socket.on('data', (chunk: Buffer) => this.feed(chunk));
        resolve();
      });
      ws.once('close', () => {
        clearTimeout(timer);
        reject(new Error('CONNECT_CLOSED'));
      });
    });
    const ask: Ask = async (body) => JSON.parse((await this.request(body)).frame.toString()) as unknown;
    const { username, password, token } = this.spec;
    if (cfg.target === 'baseline') await logIn(ask, 'baseline', username, password, { room: this.spec.room });
    else if (token) await resume(ask, token);
    else await logIn(ask, 'opaque', username, password);
    this.ready = true;
  }

  private onClosed(code: number): void {
    if (this.ready) bump(counters.closes, String(code));
    this.ready = false;
    const closed = Buffer.from('{"re":null,"ok":false,"error":{"code":"CLOSED"}}');
    for (const w of this.waiters.values()) w(closed, nowUs());
    this.waiters.clear();
  }

  request(body: Record<string, unknown>): Promise<{ frame: Buffer; atUs: number }> {
    const id = this.nextId++;
    const ws = this.ws;
    return new Promise((resolve, reject) => {
      if (!ws || ws.readyState !== WebSocket.OPEN) return reject(new Error('CLOSED'));
      const timer = setTimeout(() => {
        this.waiters.delete(id);
        reject(new Error('REQUEST_TIMEOUT'));
      }, REQUEST_TIMEOUT_MS);
      this.waiters.set(id, (frame, atUs) => {
        clearTimeout(timer);
        resolve({ frame, atUs });
      });
      ws.send(JSON.stringify({ id, ...body }));
    });
  }

  /** One room message, due at `dueUs`. */
  post(dueUs: number): void {
    const id = this.nextId++;
    const n = ++this.n;
    const head = `${this.spec.index}.${n}.${dueUs}.`;
    const text = head + PAD.slice(head.length);
    this.acks.set(id, dueUs);
    this.ws!.send(
      `{"id":${id},"type":"postMessage","room":${this.roomJson},"clientId":"m${n.toString().padStart(8, '0')}","text":"${text}"}`,
    );
  }

  private feed(chunk: Buffer): void {
    let buf = chunk;
    if (this.rest) {
      buf = Buffer.concat([this.rest, chunk]);
      this.rest = null;
    }
    const atUs = nowUs();
    const n = buf.length;
    let i = 0;
    while (n - i >= 2) {
      const b0 = buf[i]!;
      let len = buf[i + 1]! & 0x7f;
      let h = 2;
      if (len === 126) {
        if (n - i < 4) break;
        len = buf.readUInt16BE(i + 2);
        h = 4;
      } else if (len === 127) {
        if (n - i < 10) break;
        len = buf.readUInt32BE(i + 2) * 2 ** 32 + buf.readUInt32BE(i + 6);
        h = 10;
      }
      if (n - i < h + len) break;
      const start = i + h;
      i = start + len;
      const op = b0 & 0x0f;
      if (op === OP_TEXT && b0 & FIN) {
        this.onText(buf, start, i, atUs);
      } else if (op === OP_PING) {
        this.ws?.pong(buf.subarray(start, i));
      } else if (op === OP_CLOSE) {
        this.onClosed(len >= 2 ? buf.readUInt16BE(start) : 1005);
        this.ws?.terminate();
        return;
      } else {
        bump(counters.errors, `FRAME_OPCODE_${op}`);
        this.ws?.terminate();
        return;
      }
    }
    if (i < n) this.rest = Buffer.from(buf.subarray(i)); // a copy: do not pin the socket's read slab
  }

  private onText(buf: Buffer, start: number, end: number, atUs: number): void {
    const kind = buf[start + 2];
    if (kind === CH_E) {
      if (buf[start + 7] !== CH_M) return; // not messagePosted: presence and the like
      const at = buf.indexOf(TEXT_KEY, start + 28);
      if (at < 0 || at >= end) return;
      let i = at + TEXT_KEY.length;
      let ch: number;
      let sender = 0;
      while ((ch = buf[i++]!) !== CH_DOT) sender = sender * 10 + ch - 48;
      let n = 0;
      while ((ch = buf[i++]!) !== CH_DOT) n = n * 10 + ch - 48;
      let due = 0;
      while ((ch = buf[i++]!) !== CH_DOT) due = due * 10 + ch - 48;
      counters.latency.record(atUs - due);
      const last = this.last[sender]!;
      if (n > last) {
        if (n > last + 1) counters.gap++;
        this.last[sender] = n;
        counters.unique++;
      } else {
        counters.dup++;
      }
      return;
    }
    if (kind !== CH_R) return;
    let i = start + 6;
    let id = 0;
    let ch: number;
    while ((ch = buf[i++]!) !== CH_COMMA) {
      if (ch < 48 || ch > 57) return; // {"re":null: a frame we could not even number
      id = id * 10 + ch - 48;
    }
    const ok = buf[i + 5] === CH_T; // ,"ok":true
    const due = this.acks.get(id);
    if (due !== undefined) {
      this.acks.delete(id);
      if (ok) {
        counters.ack.record(atUs - due);
        counters.acks++;
      } else {
        bump(counters.errors, errorCode(buf.subarray(start, end)));
      }
      return;
    }
    const waiter = this.waiters.get(id);
    if (waiter) {
      this.waiters.delete(id);
      waiter(Buffer.from(buf.subarray(start, end)), atUs);
    }
  }

  close(): void {
    this.ready = false;
    this.ws?.terminate();
  }
}

let cfg: Config | null = null;
let clients: Client[] = [];
let concurrency = 50;

async function connectAll(list: Client[]): Promise<ConnectReply> {
  const started = performance.now();
  const errors: Record<string, number> = {};
  let next = 0;
  let connected = 0;
  const lane = async () => {
    while (next < list.length) {
      const c = list[next++]!;
      try {
        await c.connect(cfg!);
        connected++;
      } catch (err) {
        bump(errors, (err as Error).message);
        c.close();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, list.length) }, lane));
  return { connected, failed: list.length - connected, errors, ms: performance.now() - started };
}

async function setup(body: SetupBody): Promise<ConnectReply> {
  cfg = { url: body.url, target: body.target, fingerprint: body.fingerprint, roomOfSender: Int32Array.from(body.roomOfSender) };
  concurrency = body.concurrency;
  for (const c of clients) c.close();
  clients = body.clients.map((spec) => new Client(spec, body.roomOfSender.length));
  return connectAll(clients.slice(0, Math.round(clients.length * body.share)));
}

/**
 * Connects the clients that are not (a slow consumer cut by the server, say, or those left out
 * by `setup`'s share), among the first `share` of them.
 */
async function ensure(body: { share?: number }): Promise<ConnectReply> {
  const upTo = Math.round(clients.length * (body.share ?? 1));
  return connectAll(clients.slice(0, upTo).filter((c) => !c.ready));
}

async function step(body: StepBody): Promise<SentReply> {
  counters.reset();
  const senders = clients.filter((c) => c.spec.sends);
  const genLag = new Histogram();
  const endUs = body.t0Us + body.durationMs * 1000;
  let k = 0;
  let sent = 0;
  let skipped = 0;
  let rr = 0;
  while (true) {
    const now = nowUs();
    let due = body.t0Us + body.phaseUs + k * body.intervalUs;
    while (due <= now && due < endUs) {
      const c = senders[rr]!;
      rr = (rr + 1) % senders.length;
      if (c.ready) {
        c.post(Math.round(due));
        genLag.record(now - due);
        sent++;
      } else {
        skipped++;
      }
      k++;
      due = body.t0Us + body.phaseUs + k * body.intervalUs;
    }
    if (due >= endUs || senders.length === 0) break;
    await sleep(TICK_MS);
  }
  return {
    finalN: senders.map((c) => [c.spec.index, c.n]),
    sent,
    skipped,
    genLag: serialize(genLag),
  };
}

async function drain(body: DrainBody): Promise<DrainReply> {
  const perRoom = new Map<number, number>();
  const roomOf = cfg!.roomOfSender;
  for (let s = 0; s < body.finalN.length; s++) {
    const d = body.finalN[s]! - body.startN[s]!;
    if (d > 0) perRoom.set(roomOf[s]!, (perRoom.get(roomOf[s]!) ?? 0) + d);
  }
  let expected = 0;
  for (const c of clients) expected += perRoom.get(c.spec.roomIndex) ?? 0;
  const pendingAcks = () => clients.reduce((n, c) => n + c.acks.size, 0);
  const started = performance.now();
  let lastProgress = started;
  let lastSeen = -1;
  while (performance.now() - started < body.maxWaitMs) {
    const seen = counters.unique + counters.dup + counters.acks;
    if (counters.unique >= expected && pendingAcks() === 0) break;
    if (seen !== lastSeen) {
      lastSeen = seen;
      lastProgress = performance.now();
    } else if (performance.now() - lastProgress > body.quietMs) {
      break;
    }
    await sleep(10);
  }
  const reply: DrainReply = {
    expected,
    unique: counters.unique,
    dup: counters.dup,
    gap: counters.gap,
    latency: serialize(counters.latency),
    ack: serialize(counters.ack),
    acks: counters.acks,
    ackMissing: pendingAcks(),
    errors: counters.errors,
    closes: counters.closes,
  };
  // Start the next step in step: whatever this one lost is counted once, here.
  for (const c of clients) {
    c.acks.clear();
    for (let s = 0; s < body.finalN.length; s++) if (roomOf[s] === c.spec.roomIndex) c.last[s] = body.finalN[s]!;
  }
  counters.reset();
  return reply;
}

function readyClient(scenario: string): Client {
  const c = clients.find((x) => x.ready);
  if (!c) throw new Error(`no connected client for the ${scenario} scenario`);
  return c;
}

/** A client's requests, as the keylog scenario makes them (one at a time). */
function requestsOf(c: Client): Request {
  return (body) => c.request(body);
}

/** Pages one request at a time, the depths taken in turn, so that a noisy moment spreads over all of them. */
async function history(body: HistoryBody): Promise<HistoryReply> {
  const c = readyClient('history');
  const hists = body.depths.map(() => new Histogram());
  const bad = body.depths.map(() => 0);
  for (let i = 0; i < body.perDepth; i++) {
    for (const [d, before] of body.depths.entries()) {
      const t = nowUs();
      const { frame, atUs } = await c.request({ type: 'fetchHistory', room: body.room, before, limit: body.limit });
      hists[d]!.record(atUs - t);
      const page = JSON.parse(frame.toString()) as { ok: boolean; result?: { messages?: { seq: number }[] } };
      const got = page.result?.messages ?? [];
      if (!page.ok || got.length !== body.limit || got[got.length - 1]?.seq !== before - 1) bad[d]!++;
    }
  }
  return { perDepth: body.depths.map((before, d) => ({ before, latency: serialize(hists[d]!), badPages: bad[d]! })) };
}

/**
 * A socket for one login: its requests go one at a time, each reply settles the request under
 * way (a reply numbered null too: the authority could not read the frame). Events are ignored.
 */
class LoginSocket {
  readonly ws: WebSocket;
  readonly opened: Promise<void>;
  private nextId = 1;
  private pending: { id: number; settle: (frame: unknown) => void } | null = null;

  constructor(url: string, fingerprint: string | null, localAddress?: string) {
    const ws = openSocket(url, localAddress);
    this.ws = ws;
    ws.on('error', () => undefined); // the close event carries what happened
    this.opened = new Promise((resolve, reject) => {
      ws.once('open', () => (pinned(ws, fingerprint) ? resolve() : reject(new Error('CERTIFICATE_MISMATCH'))));
      ws.once('close', () => reject(new Error('CONNECT_CLOSED')));
    });
    ws.on('message', (data: Buffer) => {
      let frame: unknown;
      try {
        frame = JSON.parse(data.toString());
      } catch {
        frame = null;
      }
      const re = frame !== null && typeof frame === 'object' && 're' in frame ? frame.re : undefined;
      const p = this.pending;
      if (p && (re === p.id || re === null)) {
        this.pending = null;
        p.settle(frame);
      }
    });
    ws.once('close', () => this.pending?.settle(CLOSED_REPLY));
  }

  readonly ask: Ask = (body) =>
    new Promise((resolve, reject) => {
      const id = this.nextId++;
      const timer = setTimeout(() => {
        this.pending = null;
        reject(new Error('REQUEST_TIMEOUT'));
      }, REQUEST_TIMEOUT_MS);
      this.pending = {
        id,
        settle: (frame) => {
          clearTimeout(timer);
          resolve(frame);
        },
      };
      this.ws.send(JSON.stringify({ id, ...body }));
    });

  close(): void {
    this.ws.terminate();
  }
}

const CLOSED_REPLY = { re: null, ok: false, error: { code: 'CLOSED', message: 'the connection closed' } };

/**
 * The address lane `k` connects from when each lane has its own (all of 127.0.0.0/8 is the
 * loopback on Linux): 127.0.0.2, 127.0.0.3…
 */
function laneAddress(k: number): string {
  return `127.0.0.${2 + (k % 250)}`;
}

/** Connects, logs an account in and disconnects, in `concurrency` lanes, for `durationMs`; each login timed from its connect. */
async function storm(body: StormBody): Promise<StormReply> {
  const h = new Histogram();
  const errors: Record<string, number> = {};
  let logins = 0;
  let failures = 0;
  let next = 0;
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const end = started + body.durationMs;
  const lane = async (k: number) => {
    const localAddress = body.ownAddresses ? laneAddress(k) : undefined;
    while (performance.now() < end) {
      const username = body.usernames[next++ % body.usernames.length]!;
      const t = nowUs();
      const conn = new LoginSocket(body.url, body.fingerprint, localAddress);
      try {
        await conn.opened;
        await logIn(conn.ask, body.kind, username, body.password);
        h.record(nowUs() - t);
        logins++;
      } catch (err) {
        failures++;
        bump(errors, (err as Error).message);
      } finally {
        conn.close();
      }
    }
  };
  await Promise.all(Array.from({ length: body.concurrency }, (_, k) => lane(k)));
  const cpu = process.cpuUsage(cpuBefore);
  return { logins, failures, errors, latency: serialize(h), ms: performance.now() - started, cpuMs: (cpu.user + cpu.system) / 1000 };
}

serve({
  setup: (b: SetupBody) => setup(b),
  ensure: (b: { share?: number }) => ensure(b),
  step: (b: StepBody) => step(b),
  drain: (b: DrainBody) => drain(b),
  history: (b: HistoryBody) => history(b),
  storm: (b: StormBody) => storm(b),
  keyLogHead: () => readKeyLogHead(requestsOf(readyClient('keylog'))),
  keyLog: (b: KeyLogBody) => measureKeyLog(requestsOf(readyClient('keylog')), b),
  close: () => {
    for (const c of clients) c.close();
    clients = [];
    return {};
  },
});

process.on('SIGTERM', () => process.exit(0));
