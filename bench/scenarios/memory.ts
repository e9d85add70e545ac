/**
 * Idle memory per joined connection, 2000 logged-in clients reading Général: the server's
 * resident memory after full garbage collections, once with the first half connected and once
 * with all of them, the difference divided by the second half. The marginal cost, so that what
 * the first connections warm up once (JIT code, V8's young generation growing to its working
 * size, SQLite's page cache) is not charged to every connection; the whole growth from an idle
 * server is reported beside it.
 */
import { sleep } from '../clock.js';
import { LoadGen } from '../loadgen/pool.js';
import { ServerUnderTest, type ServerKind } from '../server-process.js';
import type { AccountSeed } from '../servers/types.js';
import type { Figure } from '../report.js';
import { BENCH_PASSWORD, specsFor, type BenchContext } from './common.js';

export const IDLE_CLIENTS = 2000;
const SETTLE_MS = 500;

export async function measureIdleMemory(
  ctx: BenchContext,
  kind: ServerKind,
  clients = IDLE_CLIENTS,
  settleMs = SETTLE_MS,
  maxWaitMs = ctx.quick ? 12_000 : 20_000,
) {
  const seed: AccountSeed = { prefix: 'idle', count: clients, password: BENCH_PASSWORD, hash: 'cheap', rooms: 'general' };
  const s = await ServerUnderTest.start(kind, { accounts: [seed] });
  const lg = LoadGen.start(ctx.procs);
  try {
    const idle = await s.settledMemory(maxWaitMs);
    const first = await lg.connect(s.endpoint(), specsFor(seed, () => false), { share: 0.5 });
    await sleep(settleMs);
    const half = await s.settledMemory(maxWaitMs);
    const rest = await lg.ensureConnected();
    const failed = first.failed + rest.failed;
    if (failed > 0) throw new Error(`${kind}: ${failed} clients could not log in: ${JSON.stringify({ ...first.errors, ...rest.errors })}`);
    await sleep(settleMs);
    const all = await s.settledMemory(maxWaitMs);
    const perConnBytes = (all.rssBytes - half.rssBytes) / rest.connected;
    const wholePerConnBytes = (all.rssBytes - idle.rssBytes) / clients;
    const heapPerConnBytes = (all.heapBytes - half.heapBytes) / rest.connected;
    const mib = (b: number) => (b / 2 ** 20).toFixed(1);
    ctx.log(
      `  ${kind}: RSS ${mib(idle.rssBytes)} MiB idle, ${mib(half.rssBytes)} with ${first.connected} clients, ${mib(all.rssBytes)} with ${clients}: ` +
        `${(perConnBytes / 1024).toFixed(2)} KiB per added connection (${(wholePerConnBytes / 1024).toFixed(2)} KiB counting from idle; ` +
        `live JS heap ${(heapPerConnBytes / 1024).toFixed(2)} KiB per added connection)`,
    );
    if (!idle.settled || !half.settled || !all.settled) ctx.log(`  ${kind}: the resident size was still moving when sampled: this figure is rough`);
    return { perConnBytes, wholePerConnBytes, heapPerConnBytes, idle, half, all, clients };
  } finally {
    await lg.stop();
    await s.stop();
  }
}

export async function memoryFigure(ctx: BenchContext): Promise<Figure> {
  ctx.log(`idle_memory: ${IDLE_CLIENTS} idle joined clients`);
  const base = await measureIdleMemory(ctx, 'baseline');
  const ours = await measureIdleMemory(ctx, 'authority');
  const kib = ours.perConnBytes / 1024;
  return {
    id: 'idle_mem_per_conn',
    label: `idle memory per joined connection, ${IDLE_CLIENTS} clients`,
    unit: 'KiB',
    ours: kib,
    baseline: base.perConnBytes / 1024,
    better: 'lower',
    target: '≤ 8 KiB',
    note:
      `counting from an idle server: ours ${(ours.wholePerConnBytes / 1024).toFixed(1)} KiB, baseline ${(base.wholePerConnBytes / 1024).toFixed(1)} KiB; ` +
      `live JS heap per connection: ours ${(ours.heapPerConnBytes / 1024).toFixed(1)} KiB, baseline ${(base.heapPerConnBytes / 1024).toFixed(1)} KiB`,
    met: kib <= 8,
    detail: { ours, baseline: base },
  };
}
