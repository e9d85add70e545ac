/** Parent side of a server under test: our authority or the baseline, each in its own process. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Child } from './ipc.js';
import { sampleProc } from './proc-stats.js';
import type { Endpoint } from './loadgen/pool.js';
import type { AccountSeed, KeyLogCostsBody, KeyLogSeed, KeyLogSeeded, KeyLogServerCosts, LoginSteps, ServerReady } from './servers/types.js';

export type ServerKind = 'authority' | 'baseline';

const STILL_SAMPLES = 8;
const STILL_GAP_MS = 500;
const STILL_BYTES = 256 * 1024;

const ENTRIES: Record<ServerKind, string> = {
  authority: 'bench/servers/authority.ts',
  baseline: 'bench/servers/baseline.ts',
};

export interface ServerOptions {
  tls?: boolean;
  accounts?: AccountSeed[];
  /** An existing data directory (the cached history store); kept afterwards. */
  dataDir?: string;
  /** Write a V8 CPU profile of the server here. */
  profileDir?: string;
}

export class ServerUnderTest {
  private constructor(
    readonly kind: ServerKind,
    private readonly child: Child,
    readonly ready: ServerReady,
    private readonly ownDir: string | null,
  ) {}

  static async start(kind: ServerKind, options: ServerOptions = {}): Promise<ServerUnderTest> {
    const ownDir = options.dataDir ? null : mkdtempSync(join(tmpdir(), `chandler-bench-${kind}-`));
    const execArgv = ['--expose-gc'];
    if (options.profileDir) execArgv.push('--cpu-prof', `--cpu-prof-dir=${options.profileDir}`);
    const child = new Child(ENTRIES[kind], [], execArgv);
    try {
      const ready = await child.call<ServerReady>(
        'start',
        { dataDir: options.dataDir ?? ownDir, tls: options.tls ?? false, accounts: options.accounts ?? [] },
        600_000,
      );
      return new ServerUnderTest(kind, child, ready, ownDir);
    } catch (err) {
      await child.stop();
      if (ownDir) rmSync(ownDir, { recursive: true, force: true });
      throw err;
    }
  }

  get pid(): number {
    return this.child.pid;
  }

  endpoint(): Endpoint {
    return { url: this.ready.url, target: this.kind, fingerprint: this.ready.fingerprint, serverPid: this.pid };
  }

  /**
   * The server's memory at rest: a full collection and an RSS sample every half second until
   * the RSS holds still (within a quarter MiB over `stillSamples` half-seconds, four seconds by
   * default) or `maxWaitMs` has passed.
   * Resident memory keeps falling for seconds after a burst of work — V8 and malloc give pages
   * back lazily, and the password worker threads' heaps shrink on their own schedule — so one
   * sample right after a collection can be tens of megabytes high.
   */
  async settledMemory(maxWaitMs = 15_000, stillSamples = STILL_SAMPLES): Promise<{ rssBytes: number; heapBytes: number; settled: boolean }> {
    const samples: number[] = [];
    const end = performance.now() + maxWaitMs;
    let heapBytes: number;
    while (true) {
      const m = await this.child.call<NodeJS.MemoryUsage>('gc');
      heapBytes = m.heapUsed + m.external;
      samples.push(sampleProc(this.pid).rssBytes);
      const last = samples.slice(-stillSamples);
      const settled = last.length === stillSamples && Math.max(...last) - Math.min(...last) <= STILL_BYTES;
      if (settled || performance.now() > end) return { rssBytes: samples[samples.length - 1]!, heapBytes, settled };
      await new Promise((r) => setTimeout(r, STILL_GAP_MS));
    }
  }

  /** Our authority: its password workers' time per login step (bench/servers/authority.ts). */
  loginSteps(rounds: number): Promise<LoginSteps> {
    return this.child.call<LoginSteps>('loginSteps', { rounds }, 300_000);
  }

  /** Our authority: accounts with identities published into its key log (bench/servers/authority.ts). */
  seedKeyLog(seed: KeyLogSeed): Promise<KeyLogSeeded> {
    return this.child.call<KeyLogSeeded>('seedKeyLog', seed, 300_000);
  }

  /** Our authority: its own work per proof and per head, in its process. */
  keyLogCosts(body: KeyLogCostsBody): Promise<KeyLogServerCosts> {
    return this.child.call<KeyLogServerCosts>('keyLogCosts', body, 120_000);
  }

  stats<T>(): Promise<T> {
    return this.child.call<T>('stats');
  }

  async stop(): Promise<void> {
    await this.child.stop(15_000);
    if (this.ownDir) rmSync(this.ownDir, { recursive: true, force: true });
  }
}
