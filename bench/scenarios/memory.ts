/**
 * Idle memory per joined connection, 2000 logged-in clients reading Général. The clients come
 * in four quarters; after each, full garbage collections until the server's resident size holds
 * still, then a sample. The figure is the growth per connection over the second half (1000 to
 * 2000 clients): the first half is the warm-up, during which the resident size also moves for
 * reasons of its own (V8 and malloc give back, late, what starting and writing the bench
 * accounts took; pools and heaps size themselves), measured here at tens of MiB downwards. The
 * growth of the live JS heap (deterministic, but blind to native memory) is reported beside it.
 */
import { sleep } from '../clock.js';
import { LoadGen } from '../loadgen/pool.js';
import { ServerUnderTest, type ServerKind } from '../server-process.js';
import type { AccountSeed } from '../servers/types.js';
import type { Figure } from '../report.js';
import { BENCH_PASSWORD, logSeeding, specsFor, type BenchContext } from './common.js';

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
  const seed: AccountSeed = { prefix: 'idle', count: clients, password: BENCH_PASSWORD, stretching: 'cheap', rooms: 'general' };
  const s = await ServerUnderTest.start(kind, { accounts: [seed] });
  logSeeding(ctx, s);
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
    const half = QUARTERS / 2;
    const perConnBytes = (samples[QUARTERS]!.rssBytes - samples[half]!.rssBytes) / (counts[QUARTERS]! - counts[half]!);
    const first = samples[0]!;
    const last = samples[samples.length - 1]!;
    const wholePerConnBytes = (last.rssBytes - first.rssBytes) / clients;
    const heapPerConnBytes = (last.heapBytes - first.heapBytes) / clients;
    const kib = (b: number) => (b / 1024).toFixed(2);
    ctx.log(
      `  ${kind}: RSS ${samples.map((m) => (m.rssBytes / 2 ** 20).toFixed(1)).join(' → ')} MiB at ${counts.join(', ')} clients: ` +
        `${perQuarter.map(kib).join(', ')} KiB per connection by quarter, second half ${kib(perConnBytes)} ` +
        `(whole growth ${kib(wholePerConnBytes)}; live JS heap ${kib(heapPerConnBytes)} KiB per connection)`,
    );
    const settled = samples.slice(QUARTERS / 2).every((m) => m.settled);
    if (!settled) ctx.log(`  ${kind}: the resident size was still moving when sampled: this figure is rough`);
    return { perConnBytes, perQuarter, wholePerConnBytes, heapPerConnBytes, samples, counts, clients, settled };
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
  // A connection cannot take negative memory: growth at or below zero means the resident size
  // was still falling for other reasons, and the figure says nothing about connections.
  const usable = ours.perConnBytes > 0;
  return {
    id: 'idle_mem_per_conn',
    label: `idle memory per joined connection, ${IDLE_CLIENTS} clients`,
    unit: 'KiB',
    ours: usable ? kib : null,
    baseline: base.perConnBytes > 0 ? base.perConnBytes / 1024 : null,
    better: 'lower',
    target: '≤ 8 KiB',
    note:
      (usable ? '' : 'the resident size fell while clients joined (memory given back late): run it again, or the full bench; ') +
      `growth from 1000 to 2000 clients${ours.settled ? '' : ' (not settled: rough)'}; quarters ours ${ours.perQuarter.map((b) => (b / 1024).toFixed(1)).join('/')} KiB, ` +
      `baseline ${base.perQuarter.map((b) => (b / 1024).toFixed(1)).join('/')} KiB; ` +
      `live JS heap per connection: ours ${(ours.heapPerConnBytes / 1024).toFixed(1)} KiB, baseline ${(base.heapPerConnBytes / 1024).toFixed(1)} KiB`,
    met: usable ? kib <= 8 : null,
    detail: { ours, baseline: base },
  };
}
