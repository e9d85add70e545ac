/**
 * Idle memory per joined connection, 2000 logged-in clients reading Général. The clients come
 * in four quarters; after each, full garbage collections until the server's resident size holds
 * still, then a sample. The figure is the median of the four quarters' growth per connection:
 * resident memory also moves on its own (V8 and malloc return pages late, the worker threads'
 * heaps shrink on their own schedule), and such a jump spoils one quarter, not the median. The
 * growth of the live JS heap (deterministic, but blind to native memory) is reported beside it.
 */
import { sleep } from '../clock.js';
import { LoadGen } from '../loadgen/pool.js';
import { ServerUnderTest, type ServerKind } from '../server-process.js';
import type { AccountSeed } from '../servers/types.js';
import type { Figure } from '../report.js';
import { BENCH_PASSWORD, specsFor, type BenchContext } from './common.js';

export const IDLE_CLIENTS = 2000;
const QUARTERS = 4;
const SETTLE_MS = 500;

export async function measureIdleMemory(
  ctx: BenchContext,
  kind: ServerKind,
  clients = IDLE_CLIENTS,
  settleMs = SETTLE_MS,
  maxWaitMs = ctx.quick ? 6000 : 20_000,
) {
  const stillSamples = ctx.quick ? 6 : 8;
  const seed: AccountSeed = { prefix: 'idle', count: clients, password: BENCH_PASSWORD, hash: 'cheap', rooms: 'general' };
  const s = await ServerUnderTest.start(kind, { accounts: [seed] });
  const lg = LoadGen.start(ctx.procs);
  try {
    const samples = [await s.settledMemory(maxWaitMs, stillSamples)];
    const counts = [0];
    const errors: Record<string, number> = {};
    let failed = 0;
    for (let q = 1; q <= QUARTERS; q++) {
      const c =
        q === 1
          ? await lg.connect(s.endpoint(), specsFor(seed, () => false), { share: 1 / QUARTERS })
          : await lg.ensureConnected(q / QUARTERS);
      failed += c.failed;
      Object.assign(errors, c.errors);
      counts.push(counts[q - 1]! + c.connected);
      await sleep(settleMs);
      samples.push(await s.settledMemory(maxWaitMs, stillSamples));
    }
    if (failed > 0) throw new Error(`${kind}: ${failed} clients could not log in: ${JSON.stringify(errors)}`);
    const perQuarter = samples.slice(1).map((m, i) => (m.rssBytes - samples[i]!.rssBytes) / (counts[i + 1]! - counts[i]!));
    const perConnBytes = median(perQuarter);
    const first = samples[0]!;
    const last = samples[samples.length - 1]!;
    const wholePerConnBytes = (last.rssBytes - first.rssBytes) / clients;
    const heapPerConnBytes = (last.heapBytes - first.heapBytes) / clients;
    const kib = (b: number) => (b / 1024).toFixed(2);
    ctx.log(
      `  ${kind}: RSS ${samples.map((m) => (m.rssBytes / 2 ** 20).toFixed(1)).join(' → ')} MiB at ${counts.join(', ')} clients: ` +
        `${perQuarter.map(kib).join(', ')} KiB per connection by quarter, median ${kib(perConnBytes)} ` +
        `(whole growth ${kib(wholePerConnBytes)}; live JS heap ${kib(heapPerConnBytes)} KiB per connection)`,
    );
    if (samples.some((m) => !m.settled)) ctx.log(`  ${kind}: the resident size was still moving when sampled: this figure is rough`);
    return { perConnBytes, perQuarter, wholePerConnBytes, heapPerConnBytes, samples, counts, clients };
  } finally {
    await lg.stop();
    await s.stop();
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
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
      `median of four quarters; quarters ours ${ours.perQuarter.map((b) => (b / 1024).toFixed(1)).join('/')} KiB, ` +
      `baseline ${base.perQuarter.map((b) => (b / 1024).toFixed(1)).join('/')} KiB; ` +
      `live JS heap per connection: ours ${(ours.heapPerConnBytes / 1024).toFixed(1)} KiB, baseline ${(base.heapPerConnBytes / 1024).toFixed(1)} KiB`,
    met: kib <= 8,
    detail: { ours, baseline: base },
  };
}
