/**
 * The well-behaved side of the abuse soak: real client cores, one source address each. Posters
 * post in a few rooms at a modest rate; cyclers log out and in again so logins are measured.
 * Every sample and every failure is filed under the phase that was current when it started.
 */
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
  readonly cyclers: { name: string; address: string; client: ChandlerClient | null; busy: boolean }[] = [];
  private readonly sent = new Map<string, Sent>();
  private nextId = 0;
  private running = false;
  private loops: Promise<void>[] = [];

  constructor(private readonly o: LoadOptions) {}

  newClient(address: string): ChandlerClient {
    return new ChandlerClient({
      url: this.o.url,
      socketFactory: sourcedSocketFactory(this.o.fingerprint, address),
      clientVersion: 'abuse-soak/1',
      reconnect: { initialMs: 500, maxMs: 4000 },
      requestTimeoutMs: LOADED_MS,
    });
  }

  get names(): string[] {
    return [...this.posters.map((p) => p.name), ...this.cyclers.map((c) => c.name)];
  }

  /** Registers everyone (posters join their room); one in ten (at least two) are cyclers. */
  async setup(): Promise<void> {
    const cyclers = Math.max(2, Math.round(this.o.clients / 10));
    const posters = Math.max(2, this.o.clients - cyclers);
    this.o.log(`registering ${posters} posters and ${cyclers} cyclers`);
    await pool(posters + cyclers, 8, async (i) => {
      const name = `${this.o.namePrefix}${i}`;
      const address = clientAddress(i);
      const client = this.newClient(address);
      const r = await client.register(name, PASSWORD);
      if (!r.ok) throw new Error(`well-behaved ${name} could not register: ${r.error.code}`);
      if (i < posters) {
        const room = this.o.rooms[i % this.o.rooms.length]!;
        const joined = await client.requestAccess(room);
        if (!joined.ok) throw new Error(`${name} could not join ${room}: ${joined.error.code}`);
        this.watch(name, client);
        this.posters.push({ name, client, room });
      } else {
        this.watchClose(client);
        this.cyclers.push({ name, address, client, busy: false });
      }
    });
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
    const old = c.client;
    c.client = null;
    if (old) await old.logout().catch(() => old.close());
    const phase = this.phase;
    const client = this.newClient(c.address);
    const t0 = performance.now();
    const r = await client.login(c.name, PASSWORD);
    if (r.ok) {
      phase?.login.record((performance.now() - t0) * 1000);
      this.watchClose(client);
      c.client = client;
    } else {
      if (phase) tally(phase.failures, `login ${r.error.code}`);
      client.close();
    }
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
    for (const c of this.cyclers) c.client?.close();
  }
}
