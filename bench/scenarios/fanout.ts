/**
 * Room fan-out: 1000 clients, every one of them posting, in 1 room (every message to 1000
 * readers) or spread over the 5 default rooms (200 readers). The figure is the highest offered
 * deliveries/s with zero loss and p99 ≤ 100 ms. A full run measures each server twice, in turn
 * (baseline, ours, baseline, ours), the second time starting near the first result, and keeps
 * each one's best: other work on the machine only ever lowers a figure.
 */
import type { ServerKind } from '../server-process.js';
import type { AccountSeed } from '../servers/types.js';
import type { Figure } from '../report.js';
import { BENCH_PASSWORD, seek, specsFor, withClients, type BenchContext, type SeekResult } from './common.js';

export const FANOUT_CLIENTS = 1000;
const WARMUP_DELIVERIES = 50_000;

export async function measureFanout(
  ctx: BenchContext,
  kind: ServerKind,
  rooms: 1 | 5,
  tls: boolean,
  clients = FANOUT_CLIENTS,
  /** Deliveries/s found by an earlier round: start just below it, in finer steps. */
  near?: number,
): Promise<SeekResult & { fanout: number }> {
  const seed: AccountSeed = {
    prefix: rooms === 1 ? 'fan' : 'five',
    count: clients,
    password: BENCH_PASSWORD,
    stretching: 'cheap',
    rooms: rooms === 1 ? 'general' : 'spread5',
  };
  const fanout = clients / rooms;
  return withClients(ctx, kind, { tls, accounts: [seed] }, specsFor(seed), async (lg) => {
    await lg.step(WARMUP_DELIVERIES / fanout, 1000); // JIT and socket buffers warm, not counted
    const label = `${kind}${tls ? ' tls' : ''} ${rooms} room${rooms > 1 ? 's' : ''}`;
    const result = await seek(ctx, lg, label, {
      start: (near ? near * 0.85 : ctx.quick ? 200_000 : 150_000) / fanout,
      factor: near ? 1.2 : ctx.quick ? 1.6 : 1.4,
      bisect: near ? 1 : ctx.quick ? 1 : 2,
      durationMs: ctx.quick ? 1500 : 3000,
      maxSteps: near ? 4 : ctx.quick ? (tls ? 3 : 5) : 8,
      fanout,
      confirm: !ctx.quick,
    });
    return { ...result, fanout };
  });
}

type Measured = SeekResult & { fanout: number };

const value = (r: Measured) => (r.best ? r.best.rate * r.fanout : 0);

/** The better of two rounds (a round that found no failing step keeps that mark). */
function better(a: Measured, b: Measured | null): Measured {
  if (!b) return a;
  const best = value(b) > value(a) ? b : a;
  return { ...best, steps: [...a.steps, ...b.steps] };
}

export async function fanoutFigure(ctx: BenchContext, rooms: 1 | 5, tls = false): Promise<Figure> {
  const id = tls ? 'fanout_1room_tls' : `fanout_${rooms}room${rooms > 1 ? 's' : ''}`;
  const rounds = ctx.quick || tls ? 1 : 2;
  ctx.log(`${id}: ${FANOUT_CLIENTS} clients, ${rooms} room(s)${tls ? ', TLS' : ''}${rounds > 1 ? `, ${rounds} rounds` : ''}`);
  let base = await measureFanout(ctx, 'baseline', rooms, tls);
  let ours = await measureFanout(ctx, 'authority', rooms, tls);
  for (let r = 1; r < rounds; r++) {
    base = better(base, await measureFanout(ctx, 'baseline', rooms, tls, FANOUT_CLIENTS, value(base) || undefined));
    ours = better(ours, await measureFanout(ctx, 'authority', rooms, tls, FANOUT_CLIENTS, value(ours) || undefined));
  }
  const o = value(ours);
  const b = value(base);
  const unbounded = [ours.bounded ? null : 'ours', base.bounded ? null : 'baseline'].filter(Boolean);
  return {
    id,
    label: `fan-out, ${FANOUT_CLIENTS} clients, ${rooms} room${rooms > 1 ? 's' : ''}${tls ? ', TLS' : ''}`,
    unit: 'deliv/s',
    ours: o,
    baseline: b,
    better: 'higher',
    target: '≥ 0.8× baseline (aim ≥ 1.0×)',
    met: b > 0 && o > 0 ? o / b >= 0.8 : null,
    note:
      o === 0 || b === 0
        ? `no step passed for ${[o === 0 ? 'ours' : null, b === 0 ? 'the baseline' : null].filter(Boolean).join(' or ')}: see the CPU pressure in the log`
        : unbounded.length
          ? `${unbounded.join(' and ')}: no step failed, the ceiling is higher than shown`
          : undefined,
    detail: { ours, baseline: base },
  };
}
