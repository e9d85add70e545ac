/**
 * Idle memory per joined connection: the server's resident memory (after full garbage
 * collections) with 2000 logged-in clients reading Général, minus the same before they came,
 * divided by 2000.
 */
import { sleep } from '../clock.js';
import { LoadGen } from '../loadgen/pool.js';
import { ServerUnderTest, type ServerKind } from '../server-process.js';
import type { AccountSeed } from '../servers/types.js';
import type { Figure } from '../report.js';
import { BENCH_PASSWORD, specsFor, type BenchContext } from './common.js';

export const IDLE_CLIENTS = 2000;
const SETTLE_MS = 1500;

export async function measureIdleMemory(ctx: BenchContext, kind: ServerKind, clients = IDLE_CLIENTS, settleMs = SETTLE_MS) {
  const seed: AccountSeed = { prefix: 'idle', count: clients, password: BENCH_PASSWORD, hash: 'cheap', rooms: 'general' };
  const s = await ServerUnderTest.start(kind, { accounts: [seed] });
  const lg = LoadGen.start(ctx.procs);
  try {
    const rssBefore = await s.settledRss();
    const c = await lg.connect(s.endpoint(), specsFor(seed, () => false));
    if (c.failed > 0) throw new Error(`${kind}: ${c.failed} clients could not log in: ${JSON.stringify(c.errors)}`);
    await sleep(settleMs);
    const rssAfter = await s.settledRss();
    const perConnBytes = (rssAfter - rssBefore) / clients;
    ctx.log(
      `  ${kind}: RSS ${(rssBefore / 2 ** 20).toFixed(1)} → ${(rssAfter / 2 ** 20).toFixed(1)} MiB with ${clients} clients: ` +
        `${(perConnBytes / 1024).toFixed(2)} KiB per connection`,
    );
    return { perConnBytes, rssBefore, rssAfter, clients };
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
    met: kib <= 8,
    detail: { ours, baseline: base },
  };
}
