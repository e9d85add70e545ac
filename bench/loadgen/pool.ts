/**
 * Parent side of the load generator: a few worker processes sharing the clients, driven in
 * steps (send at a fixed rate for a while, then drain and count), and merged results.
 */
import { nowUs } from '../clock.js';
import { Histogram, type LatencySummary } from '../histogram.js';
import { Child } from '../ipc.js';
import { availableParallelism } from 'node:os';
import { cpuPercent, cpuPressure, machineCores, sampleMachine, sampleProc } from '../proc-stats.js';
import type {
  ClientSpec,
  ConnectReply,
  DrainReply,
  HistoryReply,
  KeyLogBody,
  KeyLogHeadReply,
  KeyLogReply,
  SentReply,
  StormBody,
  StormReply,
  Target,
} from './protocol.js';

const WORKER_ENTRY = 'bench/loadgen/worker.ts';
/** How far ahead of "now" a step starts, so that every process has its orders. */
const START_AHEAD_US = 150_000;
/** The pass rule of the issue. */
export const P99_LIMIT_MS = 100;

export interface StepResult {
  /** Offered messages per second. */
  rate: number;
  durationMs: number;
  sent: number;
  skipped: number;
  /** Deliveries due (each message times the readers of its room) and those that arrived once. */
  expected: number;
  unique: number;
  /** Offered deliveries per second (expected / duration). */
  deliveriesPerSec: number;
  loss: number;
  dup: number;
  gap: number;
  latency: LatencySummary;
  ack: LatencySummary;
  acks: number;
  ackMissing: number;
  genLagP99Ms: number;
  errors: Record<string, number>;
  closes: Record<string, number>;
  serverCpuPct: number;
  serverRssMiB: number;
  /** Cores busy on the whole machine during the step (server, generator, and anyone else). */
  machineBusyCores: number;
  /** Our authority only: batches committed during the step, their size, the mean WAL flush time. */
  commit: CommitDuring | null;
  /** CPU pressure (PSI "some", avg10, %) when the step ended: above ~20 the figures are noisy. */
  cpuPressure: number | null;
  pass: boolean;
  why: string;
}

function mergeCounts(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

/** Our authority's group-commit counters (see authority/src/committer.ts). */
export interface ServerCounters {
  batches: number;
  messages: number;
  syncs: number;
  syncMsTotal: number;
  syncMsMax: number;
  walBytes: number;
  /** The event loop's lateness since the previous read (monitorEventLoopDelay, 1 ms resolution). */
  loopP99Ms: number;
  loopMaxMs: number;
}

/** What the group commit did during a step. */
export interface CommitDuring {
  batches: number;
  messagesPerBatch: number;
  syncMsMean: number;
  /** The slowest WAL flush of the step. */
  syncMsMax: number;
  /** The WAL's size when the step's sending ended. */
  walMiB: number;
  /** How late the authority's event loop ran during the step: p99 and worst. */
  loopP99Ms: number;
  loopMaxMs: number;
}

export interface Endpoint {
  url: string;
  target: Target;
  fingerprint: string | null;
  serverPid: number;
}

export class LoadGen {
  private clients: ClientSpec[] = [];
  private finalN: number[] = [];
  private endpoint: Endpoint | null = null;
  /** Reads the server's own counters (our authority's group commit), when it has any. */
  serverStats: (() => Promise<ServerCounters | null>) | null = null;

  private constructor(private readonly workers: Child[]) {}

  static start(processes: number, execArgv: string[] = []): LoadGen {
    return new LoadGen(Array.from({ length: processes }, () => new Child(WORKER_ENTRY, [], execArgv)));
  }

  /**
   * Logs the clients in, spread round-robin over the processes: all of them, or only a share
   * (the others are connected by the next `ensureConnected` or step).
   */
  async connect(endpoint: Endpoint, clients: ClientSpec[], options: { concurrency?: number; share?: number } = {}): Promise<ConnectReply> {
    this.endpoint = endpoint;
    this.clients = clients;
    this.finalN = new Array<number>(clients.length).fill(0);
    const roomOfSender = clients.map((c) => c.roomIndex);
    const replies = await Promise.all(
      this.workers.map((w, p) =>
        w.call<ConnectReply>(
          'setup',
          {
            url: endpoint.url,
            target: endpoint.target,
            fingerprint: endpoint.fingerprint,
            clients: clients.filter((_, i) => i % this.workers.length === p),
            roomOfSender,
            concurrency: options.concurrency ?? 64,
            share: options.share ?? 1,
          },
          300_000,
        ),
      ),
    );
    return mergeConnect(replies);
  }

  /** Connects every client that is not (or, with `share`, every one among that share of them). */
  async ensureConnected(share = 1): Promise<ConnectReply> {
    return mergeConnect(await Promise.all(this.workers.map((w) => w.call<ConnectReply>('ensure', { share }, 300_000))));
  }

  /** Sends `rate` messages/s for `durationMs` (open loop), then waits for the deliveries. */
  async step(rate: number, durationMs: number, maxDrainMs = 15_000): Promise<StepResult> {
    const reconnect = await this.ensureConnected();
    if (reconnect.failed > 0) throw new Error(`could not reconnect ${reconnect.failed} clients: ${JSON.stringify(reconnect.errors)}`);
    const P = this.workers.length;
    const t0Us = nowUs() + START_AHEAD_US;
    const pid = this.endpoint!.serverPid;
    const countersBefore = (await this.serverStats?.()) ?? null;
    const before = sampleProc(pid);
    const machineBefore = sampleMachine();
    const sentReplies = await Promise.all(
      this.workers.map((w, p) =>
        w.call<SentReply>(
          'step',
          { t0Us, durationMs, intervalUs: (1e6 * P) / rate, phaseUs: (1e6 * p) / rate },
          durationMs + 60_000,
        ),
      ),
    );
    const after = sampleProc(pid);
    const machineAfter = sampleMachine();
    const startN = [...this.finalN];
    const genLag = new Histogram();
    let sent = 0;
    let skipped = 0;
    for (const r of sentReplies) {
      for (const [s, n] of r.finalN) this.finalN[s] = n;
      genLag.merge(r.genLag.data, r.genLag.max);
      sent += r.sent;
      skipped += r.skipped;
    }
    const drains = await Promise.all(
      this.workers.map((w) =>
        w.call<DrainReply>('drain', { startN, finalN: this.finalN, maxWaitMs: maxDrainMs, quietMs: 3000 }, maxDrainMs + 60_000),
      ),
    );
    const countersAfter = countersBefore ? await this.serverStats!() : null;
    const commit =
      countersBefore && countersAfter
        ? {
            batches: countersAfter.batches - countersBefore.batches,
            messagesPerBatch: (countersAfter.messages - countersBefore.messages) / Math.max(1, countersAfter.batches - countersBefore.batches),
            syncMsMean: (countersAfter.syncMsTotal - countersBefore.syncMsTotal) / Math.max(1, countersAfter.syncs - countersBefore.syncs),
            walMiB: countersAfter.walBytes / 2 ** 20,
            syncMsMax: countersAfter.syncMsMax,
            loopP99Ms: countersAfter.loopP99Ms,
            loopMaxMs: countersAfter.loopMaxMs,
          }
        : null;
    const latency = new Histogram();
    const ack = new Histogram();
    const errors: Record<string, number> = {};
    const closes: Record<string, number> = {};
    let expected = 0;
    let unique = 0;
    let dup = 0;
    let gap = 0;
    let acks = 0;
    let ackMissing = 0;
    for (const d of drains) {
      expected += d.expected;
      unique += d.unique;
      dup += d.dup;
      gap += d.gap;
      acks += d.acks;
      ackMissing += d.ackMissing;
      latency.merge(d.latency.data, d.latency.max);
      ack.merge(d.ack.data, d.ack.max);
      mergeCounts(errors, d.errors);
      mergeCounts(closes, d.closes);
    }
    const lat = latency.summary();
    const ackLat = ack.summary();
    const loss = expected - unique + skipped;
    const why: string[] = [];
    if (loss > 0) why.push(`lost ${loss}`);
    if (dup > 0) why.push(`${dup} duplicates`);
    if (ackMissing > 0) why.push(`${ackMissing} acks missing`);
    if (Object.keys(errors).length) why.push(`errors ${JSON.stringify(errors)}`);
    if (Object.keys(closes).length) why.push(`closed ${JSON.stringify(closes)}`);
    if (lat.p99Ms > P99_LIMIT_MS) why.push(`delivery p99 ${lat.p99Ms.toFixed(1)} ms`);
    if (ackLat.p99Ms > P99_LIMIT_MS) why.push(`ack p99 ${ackLat.p99Ms.toFixed(1)} ms`);
    return {
      rate,
      durationMs,
      sent,
      skipped,
      expected,
      unique,
      deliveriesPerSec: expected / (durationMs / 1000),
      loss,
      dup,
      gap,
      latency: lat,
      ack: ackLat,
      acks,
      ackMissing,
      genLagP99Ms: genLag.quantile(0.99) / 1000,
      errors,
      closes,
      serverCpuPct: cpuPercent(before, after),
      serverRssMiB: after.rssBytes / 2 ** 20,
      machineBusyCores: machineCores(machineBefore, machineAfter, availableParallelism()),
      commit,
      cpuPressure: cpuPressure(),
      pass: why.length === 0,
      why: why.join(', '),
    };
  }

  async history(body: { room: string; limit: number; depths: number[]; perDepth: number }): Promise<HistoryReply> {
    return this.workers[0]!.call<HistoryReply>('history', body, 300_000);
  }

  /** The key log's newest head, read by the first process's first client (the keylog scenario). */
  async keyLogHead(): Promise<KeyLogHeadReply> {
    return this.workers[0]!.call<KeyLogHeadReply>('keyLogHead');
  }

  /** Fetches keys with their proofs and times their checks, on the first process's first client. */
  async keyLog(body: KeyLogBody): Promise<KeyLogReply> {
    return this.workers[0]!.call<KeyLogReply>('keyLog', body, 600_000);
  }

  async disconnect(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.call('close')));
  }

  async stop(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.stop()));
  }
}

function mergeConnect(replies: ConnectReply[]): ConnectReply {
  const errors: Record<string, number> = {};
  for (const r of replies) mergeCounts(errors, r.errors);
  return {
    connected: replies.reduce((n, r) => n + r.connected, 0),
    failed: replies.reduce((n, r) => n + r.failed, 0),
    errors,
    ms: Math.max(0, ...replies.map((r) => r.ms)),
  };
}

/** A process of its own that logs accounts in and out in a loop (the login storm). */
export class Stormer {
  private constructor(private readonly worker: Child) {}

  /** Started and loaded ahead of time, so that the storm begins when asked. */
  static async start(): Promise<Stormer> {
    const w = new Child(WORKER_ENTRY);
    await w.call('close');
    return new Stormer(w);
  }

  run(body: StormBody): Promise<StormReply> {
    return this.worker.call<StormReply>('storm', body, body.durationMs + 120_000);
  }

  stop(): Promise<void> {
    return this.worker.stop();
  }
}
