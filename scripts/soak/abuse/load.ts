/**
 * The well-behaved side of the abuse soak: real client cores, one source address each. Posters
 * post in a few rooms at a modest rate; cyclers log out and in again so logins are measured.
 * Every sample and every failure is filed under the phase that was current when it started.
 *
 * The cyclers live in a thread of their own (cycler-thread.ts): a login runs OPAQUE's key
 * stretching in the client (Argon2id, 100–200 ms of CPU), and on the event loop that times the
 * posters' deliveries it would be measured as the authority's delay.
 */
import { Worker } from 'node:worker_threads';
import { Histogram } from '../../../bench/histogram.js';
import { ChandlerClient, type ClientStatus } from '../../../shared/client/index.js';
import type { RoomMessage } from '../../../shared/protocol/index.js';
import { PASSWORD } from '../../../tests/helpers/authority.js';
import { LOADED_MS } from '../../../tests/helpers/timing.js';
import { pool, sleep } from '../../../tests/reliability/support/util.js';
import { clientAddress, sourcedSocketFactory } from './net.js';

export interface PhaseStats {
  login: Histogram;
  delivery: Histogram;
  /** Failed well-behaved requests by kind (a code, "timeout", "closed", "undelivered"). */
  failures: Map<string, number>;
  posted: number;
}

export function newPhaseStats(): PhaseStats {
  return { login: new Histogram(), delivery: new Histogram(), failures: new Map(), posted: 0 };
}

export function tally(m: Map<string, number>, key: string, n = 1): void {
  m.set(key, (m.get(key) ?? 0) + n);
}

export interface LoadOptions {
  url: string;
  fingerprint: string;
  clients: number;
  rooms: string[];
  postEveryMs: number;
  loginsPerSecond: number;
  random: () => number;
  namePrefix: string;
  log: (line: string) => void;
}

/** The parent's orders to the cycler thread: create the account, or log out and in again. */
export interface CyclerOrder {
  kind: 'register' | 'cycle';
  name: string;
  address: string;
}

/** What the cycler thread says: loaded; an order done (`ms`: the login's time); a cycler's connection dropped. */
export type CyclerReport =
  | { kind: 'ready' }
  | { kind: 'done'; name: string; ok: true; ms: number }
  | { kind: 'done'; name: string; ok: false; code: string }
  | { kind: 'dropped'; name: string };
type Done = Extract<CyclerReport, { kind: 'done' }>;

/** A well-behaved client core from its own source address. */
export function wellBehavedClient(url: string, fingerprint: string, address: string): ChandlerClient {
  return new ChandlerClient({
    url,
    socketFactory: sourcedSocketFactory(fingerprint, address),
    clientVersion: 'abuse-soak/1',
    reconnect: { initialMs: 500, maxMs: 4000 },
    requestTimeoutMs: LOADED_MS,
  });
}

interface Sent {
  phase: PhaseStats | null;
  sentMs: number;
  waiting: Set<string>;
}

const MARK = 'wb ';

export class WellBehaved {
  /** Where samples go now; null between phases (settling), when nothing is filed. */
  phase: PhaseStats | null = null;
  readonly posters: { name: string; client: ChandlerClient; room: string }[] = [];
  readonly cyclers: { name: string; address: string; busy: boolean }[] = [];
  private readonly sent = new Map<string, Sent>();
  private nextId = 0;
  private running = false;
  private loops: Promise<void>[] = [];
  private thread: Worker | null = null;
  /** Orders sent to the cycler thread, by cycler name (one at a time each). */
  private readonly ordered = new Map<string, (done: Done) => void>();

  constructor(private readonly o: LoadOptions) {}

  newClient(address: string): ChandlerClient {
    return wellBehavedClient(this.o.url, this.o.fingerprint, address);
  }

  /** Starts the cycler thread and waits until it is loaded. */
  private startThread(): Promise<void> {
    const worker = new Worker(new URL('../../../authority/src/ts-worker.mjs', import.meta.url), {
      workerData: { entry: new URL('./cycler-thread.ts', import.meta.url).href, url: this.o.url, fingerprint: this.o.fingerprint },
    });
    this.thread = worker;
    const answerAll = (code: string) => {
      for (const [name, done] of this.ordered) done({ kind: 'done', name, ok: false, code });
      this.ordered.clear();
    };
    return new Promise((resolve, reject) => {
      worker.on('message', (m: CyclerReport) => {
        if (m.kind === 'ready') resolve();
        else if (m.kind === 'dropped') {
          if (this.phase) tally(this.phase.failures, 'closed');
        } else {
          const done = this.ordered.get(m.name);
          this.ordered.delete(m.name);
          done?.(m);
        }
      });
      worker.once('error', (err) => {
        this.o.log(`cycler thread failed: ${err.stack ?? String(err)}`);
        answerAll('cycler thread failed');
        reject(err);
      });
      worker.once('exit', () => answerAll('cycler thread exited'));
    });
  }

  private order(kind: CyclerOrder['kind'], c: { name: string; address: string }): Promise<Done> {
    return new Promise((resolve) => {
      this.ordered.set(c.name, resolve);
      this.thread!.postMessage({ kind, name: c.name, address: c.address } satisfies CyclerOrder);
    });
  }

  get names(): string[] {
    return [...this.posters.map((p) => p.name), ...this.cyclers.map((c) => c.name)];
  }

  /**
   * Registers everyone (posters join their room); one in ten (at least two) are cyclers, made
   * by their thread meanwhile.
   */
  async setup(): Promise<void> {
    const cyclers = Math.max(2, Math.round(this.o.clients / 10));
    const posters = Math.max(2, this.o.clients - cyclers);
    this.o.log(`registering ${posters} posters and ${cyclers} cyclers`);
    await this.startThread();
    const registerCyclers = pool(cyclers, 4, async (k) => {
      const c = { name: `${this.o.namePrefix}${posters + k}`, address: clientAddress(posters + k), busy: false };
      const r = await this.order('register', c);
      if (!r.ok) throw new Error(`well-behaved ${c.name} could not register: ${r.code}`);
      this.cyclers.push(c);
    });
    const registerPosters = pool(posters, 8, async (i) => {
      const name = `${this.o.namePrefix}${i}`;
      const client = this.newClient(clientAddress(i));
      const r = await client.register(name, PASSWORD);
      if (!r.ok) throw new Error(`well-behaved ${name} could not register: ${r.error.code}`);
      const room = this.o.rooms[i % this.o.rooms.length]!;
      const joined = await client.requestAccess(room);
      if (!joined.ok) throw new Error(`${name} could not join ${room}: ${joined.error.code}`);
      this.watch(name, client);
      this.posters.push({ name, client, room });
    });
    await Promise.all([registerCyclers, registerPosters]);
  }

  private watchClose(client: ChandlerClient): void {
    client.on('status', (s: ClientStatus) => {
      if (s === 'reconnecting' && this.phase) tally(this.phase.failures, 'closed');
    });
  }

  private watch(name: string, client: ChandlerClient): void {
    this.watchClose(client);
    client.on('message', (m: RoomMessage) => {
      if (m.author === name || !m.text.startsWith(MARK)) return;
      const id = m.text.slice(MARK.length).split(' ', 1)[0]!;
      const s = this.sent.get(id);
      if (!s || !s.waiting.delete(name)) return;
      s.phase?.delivery.record((performance.now() - s.sentMs) * 1000);
      if (s.waiting.size === 0) this.sent.delete(id);
    });
  }

  /**
   * Drops the messages the client cores hold (measured already): the 200 cores live in this one
   * process and keep every message they saw, so that over a run its heap, its collections and
   * with them the delivery times it measures would grow phase after phase. Their cursors stay.
   */
  forgetMessages(): void {
    for (const p of this.posters) for (const room of p.client.rooms.values()) room.messages.clear();
  }

  start(): void {
    this.running = true;
    this.loops = [...this.posters.map((p) => this.postLoop(p)), this.loginLoop()];
  }

  private async postLoop(p: { name: string; client: ChandlerClient; room: string }): Promise<void> {
    await sleep(this.o.random() * this.o.postEveryMs);
    while (this.running) {
      const id = `${this.nextId++}`;
      const phase = this.phase;
      const waiting = new Set(this.posters.filter((q) => q.room === p.room && q.name !== p.name).map((q) => q.name));
      this.sent.set(id, { phase, sentMs: performance.now(), waiting });
      if (phase) phase.posted++;
      const m = p.client.post(p.room, `${MARK}${id} from ${p.name}`);
      const timer = setTimeout(() => phase && tally(phase.failures, 'post timeout'), LOADED_MS);
      void p.client.settled(m).then((x) => {
        clearTimeout(timer);
        if (x.status !== 'sent' && phase) tally(phase.failures, `post ${x.error?.code ?? x.status}`);
      });
      await sleep(this.o.postEveryMs * (0.75 + this.o.random() / 2));
    }
  }

  /** One login every 1/loginsPerSecond s, by the next idle cycler: log out, then log in anew. */
  private async loginLoop(): Promise<void> {
    let next = 0;
    const inFlight: Promise<void>[] = [];
    while (this.running) {
      const n = this.cyclers.length;
      for (let k = 0; k < n; k++) {
        const c = this.cyclers[(next + k) % n]!;
        if (c.busy) continue;
        next = (next + k + 1) % n;
        c.busy = true;
        inFlight.push(this.cycle(c).finally(() => (c.busy = false)));
        break;
      }
      await sleep(1000 / this.o.loginsPerSecond);
    }
    await Promise.all(inFlight);
  }

  private async cycle(c: WellBehaved['cyclers'][number]): Promise<void> {
    const phase = this.phase;
    const r = await this.order('cycle', c);
    if (r.ok) phase?.login.record(r.ms * 1000);
    else if (phase) tally(phase.failures, `login ${r.code}`);
  }

  /** Logs the named cycler out and in again now, unless it is doing so already. */
  async cycleNow(name: string): Promise<void> {
    const c = this.cyclers.find((x) => x.name === name);
    if (!c || c.busy) return;
    c.busy = true;
    try {
      await this.cycle(c);
    } finally {
      c.busy = false;
    }
  }

  /** Stops posting and logging in; messages not delivered within LOADED_MS count as failures. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    const deadline = Date.now() + LOADED_MS;
    while (this.sent.size > 0 && Date.now() < deadline) await sleep(100);
    for (const s of this.sent.values()) if (s.phase) tally(s.phase.failures, 'undelivered', s.waiting.size);
  }

  close(): void {
    for (const p of this.posters) p.client.close();
    void this.thread?.terminate(); // the cyclers' sockets end with it
  }
}
