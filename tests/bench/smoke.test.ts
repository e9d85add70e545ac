/**
 * A small run of every part of the benchmark, so that `npm run bench` never rots: the servers,
 * the load-generator processes, the counting, the history store, the storm, the DM pair and the key log.
 * No timing assertion (speed belongs to the benchmark itself): only that the figures come out
 * and are sane — at a low rate nothing is lost, duplicated or refused.
 */
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { BENCH_PASSWORD, specsFor, type BenchContext } from '../../bench/scenarios/common.js';
import { LoadGen } from '../../bench/loadgen/pool.js';
import { ServerUnderTest } from '../../bench/server-process.js';
import { measureIdleMemory } from '../../bench/scenarios/memory.js';
import { ensureHistoryCache, historyCacheDir, measureHistory, PAGE } from '../../bench/scenarios/history.js';
import { measureStorm } from '../../bench/scenarios/storm.js';
import { measureLogins } from '../../bench/scenarios/login.js';
import { measureDm } from '../../bench/scenarios/dm.js';
import { measureKeyLog } from '../../bench/scenarios/keylog.js';
import { measureStorageCeiling } from '../../bench/scenarios/durable.js';
import { summary, table, type Figure } from '../../bench/report.js';
import type { StepResult } from '../../bench/loadgen/pool.js';
import type { ServerKind } from '../../bench/server-process.js';
import type { AccountSeed } from '../../bench/servers/types.js';
import { SLOWDOWN } from '../helpers/timing.js';

const lines: string[] = [];
const ctx: BenchContext = { quick: true, procs: 1, log: (l) => lines.push(l) };
const SMOKE_HISTORY = 3000;
/** The bench server is its own process and each step takes a while; more on a loaded machine. */
const TIMEOUT_MS = Math.round(120_000 * SLOWDOWN);

afterAll(() => rmSync(historyCacheDir(SMOKE_HISTORY), { recursive: true, force: true }));

/** Everything sent arrived exactly once, everything was acknowledged, nothing was refused or cut. */
function expectClean(r: StepResult, fanout: number): void {
  expect(r.sent).toBeGreaterThan(0);
  expect(r.skipped).toBe(0);
  expect(r.expected).toBe(r.sent * fanout);
  expect(r.unique).toBe(r.expected);
  expect({ loss: r.loss, dup: r.dup, gap: r.gap, ackMissing: r.ackMissing }).toEqual({ loss: 0, dup: 0, gap: 0, ackMissing: 0 });
  expect(r.errors).toEqual({});
  expect(r.closes).toEqual({});
  expect(r.acks).toBe(r.sent);
  expect(r.latency.count).toBe(r.expected);
  expect(r.latency.p99Ms).toBeGreaterThan(0);
  expect(r.latency.p99Ms).toBeLessThanOrEqual(r.latency.maxMs);
  expect(r.ack.count).toBe(r.sent);
  expect(r.serverRssMiB).toBeGreaterThan(1);
}

describe.each<ServerKind>(['baseline', 'authority'])('bench against %s', (kind) => {
  it('delivers everything once at a low rate: 1 room, 5 rooms, senders alone in their rooms', { timeout: TIMEOUT_MS }, async () => {
    const seeds: AccountSeed[] = [
      { prefix: 'smkone', count: 25, password: BENCH_PASSWORD, stretching: 'cheap', rooms: 'general' },
      { prefix: 'smkfive', count: 25, password: BENCH_PASSWORD, stretching: 'cheap', rooms: 'spread5' },
      { prefix: 'smkdur', count: 5, password: BENCH_PASSWORD, stretching: 'cheap', rooms: 'private' },
    ];
    const server = await ServerUnderTest.start(kind, { accounts: seeds });
    const lg = LoadGen.start(ctx.procs);
    try {
      const fanouts = [25, 5, 1];
      for (const [i, seed] of seeds.entries()) {
        const c = await lg.connect(server.endpoint(), specsFor(seed));
        expect(c).toMatchObject({ connected: seed.count, failed: 0 });
        expectClean(await lg.step(40, 800), fanouts[i]!);
      }
    } finally {
      await lg.stop();
      await server.stop();
    }
  });

  it('measures idle memory per connection', { timeout: TIMEOUT_MS }, async () => {
    const m = await measureIdleMemory(ctx, kind, 40, 0, 600);
    expect(m.counts).toEqual([0, 10, 20, 30, 40]);
    expect(m.samples[0]!.rssBytes).toBeGreaterThan(1 << 20);
    // Memory with 40 idle connections vs none is within GC noise at this size: only the figures' shape is checked here.
    expect(m.samples[4]!.heapBytes).toBeGreaterThan(1 << 20);
    expect(m.perQuarter).toHaveLength(4);
    expect(Number.isFinite(m.perConnBytes)).toBe(true);
    expect(Number.isFinite(m.heapPerConnBytes)).toBe(true);
  });

  it('pages through history at every depth with whole pages', { timeout: TIMEOUT_MS }, async () => {
    const h = await measureHistory(ctx, kind, SMOKE_HISTORY, 20);
    expect(h.badPages).toBe(0);
    expect(h.depths.map((d) => d.before)).toEqual([SMOKE_HISTORY + 1, 2250, 1500, 750, PAGE + 1]);
    for (const d of h.depths) expect(d.p99Ms).toBeGreaterThan(0);
  });
});

it('generates the history store once and reuses it', { timeout: TIMEOUT_MS }, () => {
  const dir = ensureHistoryCache(ctx, SMOKE_HISTORY);
  const before = lines.length;
  expect(ensureHistoryCache(ctx, SMOKE_HISTORY)).toBe(dir);
  expect(lines.length).toBe(before); // no "generating" line the second time
});

it('keeps fan-out going through a storm of OPAQUE logins', { timeout: TIMEOUT_MS }, async () => {
  const s = await measureStorm(ctx, 'authority', { clients: 20, deliveriesPerSec: 400, durationMs: 1000, rounds: 1, lanes: 4 });
  expect(s.logins.every((l) => l.logins > 0 && l.failures === 0)).toBe(true);
  for (const r of [...s.quiet, ...s.stormy]) expectClean(r, 20);
  expect(s.ratio).toBeGreaterThan(0);
});

it('times logins before OPAQUE (scrypt) and after, one at a time and several at once', { timeout: TIMEOUT_MS }, async () => {
  const r = await measureLogins(ctx, { accounts: 2, durationMs: 400, rounds: 1, lanes: 2, stepRounds: 2 });
  for (const run of [r.seqScrypt, r.seqOpaque, r.parScrypt, r.parOpaque, r.parCheap]) {
    expect({ failures: run.failures, errors: run.errors }).toEqual({ failures: 0, errors: {} });
    expect(run.logins).toBeGreaterThan(0);
    expect(run.latency.p50Ms).toBeGreaterThan(0);
    expect(run.perSec).toBeGreaterThan(0);
    expect(run.serverCpuMs).toBeGreaterThanOrEqual(0);
  }
  for (const ms of Object.values(r.steps)) expect(ms).toBeGreaterThan(0);
});

it('measures what the store alone commits and flushes', () => {
  const c = measureStorageCeiling(200, 5);
  expect(c.perSec).toBeGreaterThan(0);
  expect(c.commitUsPerMsg).toBeGreaterThan(0);
  expect(c.syncMsPerBatch).toBeGreaterThanOrEqual(0);
});

it('opens a direct channel and carries encrypted DMs', { timeout: TIMEOUT_MS }, async () => {
  const d = await measureDm(ctx, 1, 20, 10_000);
  expect(d.setups).toHaveLength(1);
  expect(d.setupMedianMs).toBeGreaterThan(0);
  expect(d.rate).toBeGreaterThan(0);
});

it('fetches the keys of friends with their key log proofs and checks every proof', { timeout: TIMEOUT_MS }, async () => {
  const entries = 40;
  const r = await measureKeyLog(ctx, { entries, friends: 6, rounds: 2, verifications: 6, consistencyRounds: 3, serverRounds: 1, signRounds: 2 });
  expect({ errors: r.client.errors, unverified: r.client.unverified }).toEqual({ errors: {}, unverified: 0 });
  expect([r.fetchKeys.count, r.keyLogHead.count, r.keyLogConsistency.count]).toEqual([12, 12, 3]);
  expect(r.fetchKeys.p50Ms).toBeGreaterThan(0);
  for (const s of Object.values(r.client.verify)) expect(s).toMatchObject({ count: 6 });
  expect(r.client.verify.both.p50Us).toBeGreaterThan(0);
  expect(r.client.verifyConsistency.count).toBe(3);
  expect(r.client.sizes).toMatchObject({ logSize: entries, olderSize: r.olderSize });
  expect(r.olderSize).toBeLessThan(entries);
  // A leaf's path has at most one hash per level of the tree.
  expect(r.client.sizes.pathHashesMax).toBeLessThanOrEqual(Math.ceil(Math.log2(entries)));
  expect(r.client.sizes.proofBytes).toBeGreaterThan(r.client.sizes.pathHashesMin * 44);
  expect(r.client.sizes.consistencyHashes).toBeGreaterThan(0);
  expect(r.server).toMatchObject({ size: entries, inclusion: { count: 6 }, consistency: { count: 1 }, headSign: { count: 2 } });
});

it('prints a table and a last line with every ratio', () => {
  const figures: Figure[] = [
    { id: 'a', label: 'throughput', unit: 'x/s', ours: 90, baseline: 100, better: 'higher', target: '≥ 0.8×', met: true },
    { id: 'b', label: 'latency', unit: 'ms', ours: 2, baseline: 1, better: 'lower', target: '≤ 2 ms', met: true },
    { id: 'c', label: 'missing', unit: 'ms', ours: null, baseline: null, better: 'lower', target: '≤ 1 ms', met: null, note: 'why' },
    { id: 'd', label: 'after', unit: 'ms', ours: 50, baseline: 100, baselineIs: 'before', better: 'lower', target: 'informative', met: true },
  ];
  const t = table(figures);
  expect(t).toContain('0.90×');
  expect(t).toContain('not measured: why');
  expect(t).toContain('100 ms (before)');
  const s = summary(figures);
  expect(s).toContain('a 0.90×');
  expect(s).toContain('b 2.00×');
  expect(s).toContain('geometric mean 0.67×'); // sqrt(0.9 × 0.5)
  expect(s).toContain('targets met 3/3 (1 not measured)');
  expect(s).toContain('other ratios: d 0.50× (to before)'); // the same authority before a change: not in the mean
});
