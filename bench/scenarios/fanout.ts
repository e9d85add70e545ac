/**
 * Room fan-out: 1000 clients, every one of them posting, in 1 room (every message to 1000
 * readers) or spread over the 5 default rooms (200 readers). The figure is the highest offered
 * deliveries/s with zero loss and p99 ≤ 100 ms.
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
): Promise<SeekResult & { fanout: number }> {
  const seed: AccountSeed = {
    prefix: rooms === 1 ? 'fan' : 'five',
    count: clients,
    password: BENCH_PASSWORD,
    hash: 'cheap',
    rooms: rooms === 1 ? 'general' : 'spread5',
  };
  const fanout = clients / rooms;
  return withClients(ctx, kind, { tls, accounts: [seed] }, specsFor(seed), async (lg) => {
    await lg.step(WARMUP_DELIVERIES / fanout, 1000); // JIT and socket buffers warm, not counted
    const label = `${kind}${tls ? ' tls' : ''} ${rooms} room${rooms > 1 ? 's' : ''}`;
    const result = await seek(ctx, lg, label, {
      start: (ctx.quick ? 200_000 : 150_000) / fanout,
      factor: ctx.quick ? 1.6 : 1.4,
      bisect: ctx.quick ? 1 : 2,
      durationMs: ctx.quick ? 1500 : 5000,
      maxSteps: ctx.quick ? (tls ? 3 : 5) : 9,
      fanout,
    });
    return { ...result, fanout };
  });
}

export async function fanoutFigure(ctx: BenchContext, rooms: 1 | 5, tls = false): Promise<Figure> {
  const id = tls ? 'fanout_1room_tls' : `fanout_${rooms}room${rooms > 1 ? 's' : ''}`;
  ctx.log(`${id}: ${FANOUT_CLIENTS} clients, ${rooms} room(s)${tls ? ', TLS' : ''}`);
  const base = await measureFanout(ctx, 'baseline', rooms, tls);
  const ours = await measureFanout(ctx, 'authority', rooms, tls);
  const value = (r: typeof ours) => (r.best ? r.best.rate * r.fanout : 0);
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
    met: b > 0 ? o / b >= 0.8 : null,
    note: unbounded.length ? `${unbounded.join(' and ')}: no step failed, the ceiling is higher than shown` : undefined,
    detail: { ours, baseline: base },
  };
}
