/**
 * Fan-out during a login storm: 1000 clients in one room at a steady rate, first quiet, then
 * while another process logs accounts in as fast as 32 lanes allow: real OPAQUE logins (both
 * requests and both of the authority's steps in its password workers). The key stretching is
 * the clients' work, on their own machines, and the authority's share of a login does not
 * depend on it: the storm's accounts use the cheap one, so that the generator does not take the
 * cores the server is measured on. The figure is the storm's delivery p99 over the quiet one.
 */
import { sleep } from '../clock.js';
import { Stormer } from '../loadgen/pool.js';
import type { StepResult } from '../loadgen/pool.js';
import type { ServerKind } from '../server-process.js';
import { accountName, type AccountSeed } from '../servers/types.js';
import type { Figure } from '../report.js';
import { BENCH_PASSWORD, describeStep, specsFor, withClients, type BenchContext } from './common.js';
import { FANOUT_CLIENTS } from './fanout.js';

/**
 * Deliveries per second during both phases: well inside what either server sustains, so that
 * the figure is the storm's effect and not queueing. 100k/s was 15 % of the baseline's ceiling
 * on the host this bench was first run on, and at that ceiling (quiet p99 ≈ 100 ms) on a slower
 * one; 50k/s leaves both with room.
 */
export const STORM_DELIVERIES = 50_000;
const STORM_ACCOUNTS = 200;
const STORM_LANES = 32;
const STORM_LEAD_MS = 1000;

export interface StormOptions {
  clients?: number;
  deliveriesPerSec?: number;
  durationMs?: number;
  rounds?: number;
  /** Logins in flight at once. */
  lanes?: number;
}

export async function measureStorm(ctx: BenchContext, kind: ServerKind, o: StormOptions = {}) {
  const clients = o.clients ?? FANOUT_CLIENTS;
  const room: AccountSeed = { prefix: 'calm', count: clients, password: BENCH_PASSWORD, stretching: 'cheap', rooms: 'general' };
  const storm: AccountSeed = { prefix: 'storm', count: STORM_ACCOUNTS, password: BENCH_PASSWORD, stretching: 'cheap', rooms: 'none' };
  const rate = (o.deliveriesPerSec ?? STORM_DELIVERIES) / clients;
  const durationMs = o.durationMs ?? (ctx.quick ? 1500 : 5000);
  const rounds = o.rounds ?? (ctx.quick ? 1 : 2);
  return withClients(ctx, kind, { accounts: [room, storm] }, specsFor(room), async (lg, s) => {
    const stormer = await Stormer.start();
    try {
      await lg.step(rate, 1000); // warm-up
      const quiet: StepResult[] = [];
      const stormy: StepResult[] = [];
      const logins: { logins: number; failures: number; errors: Record<string, number> }[] = [];
      for (let i = 0; i < rounds; i++) {
        const q = await lg.step(rate, durationMs);
        ctx.log(`  ${kind} quiet ${describeStep(q, clients)}`);
        quiet.push(q);
        const running = stormer.run({
          url: s.ready.url,
          fingerprint: s.ready.fingerprint,
          kind: kind === 'authority' ? 'opaque' : 'baseline',
          usernames: Array.from({ length: STORM_ACCOUNTS }, (_, k) => accountName(storm.prefix, k)),
          password: BENCH_PASSWORD,
          concurrency: o.lanes ?? STORM_LANES,
          durationMs: STORM_LEAD_MS + durationMs + 500,
        });
        await sleep(STORM_LEAD_MS);
        const st = await lg.step(rate, durationMs);
        const done = await running;
        ctx.log(`  ${kind} storm ${describeStep(st, clients)}; ${done.logins} logins, ${done.failures} failed`);
        stormy.push(st);
        logins.push({ logins: done.logins, failures: done.failures, errors: done.errors });
      }
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      const quietP99 = mean(quiet.map((r) => r.latency.p99Ms));
      const stormP99 = mean(stormy.map((r) => r.latency.p99Ms));
      return { quietP99, stormP99, ratio: stormP99 / quietP99, quiet, stormy, logins, allPassed: [...quiet, ...stormy].every((r) => r.pass) };
    } finally {
      await stormer.stop();
    }
  });
}

export async function stormFigure(ctx: BenchContext): Promise<Figure> {
  ctx.log(`login_storm: ${FANOUT_CLIENTS} clients at ${STORM_DELIVERIES / 1000}k deliveries/s, quiet then during a login storm`);
  const base = await measureStorm(ctx, 'baseline');
  const ours = await measureStorm(ctx, 'authority');
  return {
    id: 'storm_p99_ratio',
    label: 'fan-out p99 during a login storm ÷ quiet p99',
    unit: '×',
    ours: ours.ratio,
    baseline: base.ratio,
    better: 'lower',
    target: '≤ 1.1× quiet',
    met: ours.ratio <= 1.1 && ours.allPassed,
    note: `ours: quiet p99 ${ours.quietP99.toFixed(1)} ms, storm p99 ${ours.stormP99.toFixed(1)} ms`,
    detail: { ours, baseline: base },
  };
}
