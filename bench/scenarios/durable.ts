/**
 * Durable, acknowledged messages: senders each alone in a room of their own (so fan-out is one
 * copy, to the sender), every message committed before its ack. Two figures: the highest acked
 * rate with zero loss and ack p99 ≤ 100 ms, and the ack p99 at a steady 1000 messages/s.
 */
import type { ServerKind } from '../server-process.js';
import type { AccountSeed } from '../servers/types.js';
import type { StepResult } from '../loadgen/pool.js';
import type { Figure } from '../report.js';
import { BENCH_PASSWORD, describeStep, seek, specsFor, withClients, type BenchContext, type SeekResult } from './common.js';

const SENDERS = 100;
export const ACK_PROBE_RATE = 1000;

export async function measureDurable(
  ctx: BenchContext,
  kind: ServerKind,
  senders = SENDERS,
): Promise<{ steady: StepResult; seek: SeekResult }> {
  const seed: AccountSeed = { prefix: 'dur', count: senders, password: BENCH_PASSWORD, hash: 'cheap', rooms: 'private' };
  return withClients(ctx, kind, { accounts: [seed] }, specsFor(seed), async (lg) => {
    await lg.step(2000, 1000); // warm-up
    const steady = await lg.step(ACK_PROBE_RATE, ctx.quick ? 1500 : 5000);
    ctx.log(`  ${kind} steady ${describeStep(steady, 1)}`);
    const result = await seek(ctx, lg, `${kind} durable`, {
      start: ctx.quick ? 20_000 : 10_000,
      factor: ctx.quick ? 1.6 : 1.4,
      bisect: ctx.quick ? 1 : 2,
      durationMs: ctx.quick ? 1500 : 4000,
      maxSteps: ctx.quick ? 4 : 8,
      fanout: 1,
      confirm: !ctx.quick,
    });
    return { steady, seek: result };
  });
}

export async function durableFigures(ctx: BenchContext): Promise<Figure[]> {
  ctx.log(`durable: ${SENDERS} senders, one room each`);
  const base = await measureDurable(ctx, 'baseline');
  const ours = await measureDurable(ctx, 'authority');
  const rate = (r: typeof ours) => r.seek.best?.acks ? r.seek.best.rate : 0;
  const o = rate(ours);
  return [
    {
      id: 'durable_msgs',
      label: 'durable acked messages/s (group commit)',
      unit: 'msg/s',
      ours: o,
      baseline: rate(base),
      better: 'higher',
      target: '≥ 50k/s (baseline stores nothing)',
      met: o >= 50_000,
      note: ours.seek.bounded ? undefined : 'ours: no step failed, the ceiling is higher than shown',
      detail: { ours: ours.seek, baseline: base.seek },
    },
    {
      id: 'ack_p99_1k',
      label: `ack latency p99 at ${ACK_PROBE_RATE} msg/s`,
      unit: 'ms',
      ours: ours.steady.ack.p99Ms,
      baseline: base.steady.ack.p99Ms,
      better: 'lower',
      target: '≤ 10 ms',
      met: ours.steady.pass && ours.steady.ack.p99Ms <= 10,
      detail: { ours: ours.steady, baseline: base.steady },
    },
  ];
}
