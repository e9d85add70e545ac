/** Parent side of a server under test: our authority or the baseline, each in its own process. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Child } from './ipc.js';
import { sampleProc } from './proc-stats.js';
import type { Endpoint } from './loadgen/pool.js';
import type { AccountSeed, ServerReady } from './servers/types.js';

export type ServerKind = 'authority' | 'baseline';

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

  /** Full garbage collection in the server, then its resident memory (bytes). */
  async settledRss(): Promise<number> {
    await this.child.call('gc');
    await new Promise((r) => setTimeout(r, 300));
    await this.child.call('gc');
    return sampleProc(this.pid).rssBytes;
  }

  stats<T>(): Promise<T> {
    return this.child.call<T>('stats');
  }

  async stop(): Promise<void> {
    await this.child.stop(15_000);
    if (this.ownDir) rmSync(this.ownDir, { recursive: true, force: true });
  }
}
