/**
 * Durable, acknowledged messages: senders each alone in a room of their own (so fan-out is one
 * copy, to the sender), every message committed before its ack. Two figures: the highest acked
 * rate with zero loss and ack p99 ≤ 100 ms, and the ack p99 at a steady 1000 messages/s.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '../../authority/src/store/index.js';
import type { ServerKind } from '../server-process.js';
import { CHEAP_KSF } from '../servers/records.js';
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
  const seed: AccountSeed = { prefix: 'dur', count: senders, password: BENCH_PASSWORD, stretching: 'cheap', rooms: 'private' };
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

/**
 * The ceiling the store sets by itself on this machine: our Store (same schema and pragmas),
 * in this process, no network, batches of STORAGE_BATCH messages spread over SENDERS rooms,
 * each committed then flushed to disk as the authority does. What the authority reaches is
 * bounded by this, whatever else it does.
 */
const STORAGE_BATCH = 500;
/** An OPAQUE registration record's size (ristretto255, SHA-512). */
const RECORD_BYTES = 192;
/** The ceiling needs user rows, not logins: a record of the right size that opens nothing. */
const NO_LOGIN = { record: Buffer.alloc(RECORD_BYTES).toString('base64url'), ksf: JSON.stringify(CHEAP_KSF) };

export function measureStorageCeiling(durationMs: number, rooms = SENDERS) {
  const dir = mkdtempSync(join(tmpdir(), 'chandler-bench-store-'));
  const store = Store.openInDir(dir);
  try {
    const targets = Array.from({ length: rooms }, (_, i) => {
      const user = store.users.create(`ceiling${i}`, NO_LOGIN, false, 0);
      return { roomId: store.rooms.create(`ceiling room ${i}`, 'closed', 0).id, authorId: user.id, authorName: user.username };
    });
    const text = 'x'.repeat(100);
    let n = 0;
    let commitMs = 0;
    let syncMs = 0;
    const started = performance.now();
    while (performance.now() - started < durationMs) {
      const batch = Array.from({ length: STORAGE_BATCH }, (_, i) => ({
        ...targets[(n + i) % rooms]!,
        clientId: `ceiling-${n + i}-${Math.random().toString(36).slice(2, 12)}`,
        text,
        ts: Date.now(),
      }));
      const t0 = performance.now();
      store.messages.appendBatch(batch, { deferSync: true });
      const t1 = performance.now();
      store.messages.syncWal();
      commitMs += t1 - t0;
      syncMs += performance.now() - t1;
      n += STORAGE_BATCH;
    }
    return { perSec: n / ((commitMs + syncMs) / 1000), commitUsPerMsg: (commitMs / n) * 1000, syncMsPerBatch: syncMs / (n / STORAGE_BATCH) };
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function durableFigures(ctx: BenchContext): Promise<Figure[]> {
  ctx.log(`durable: ${SENDERS} senders, one room each`);
  const ceiling = measureStorageCeiling(ctx.quick ? 1000 : 3000);
  ctx.log(
    `  storage alone (our store, batches of ${STORAGE_BATCH}, no network): ${(ceiling.perSec / 1000).toFixed(1)}k msg/s` +
      ` (commit ${ceiling.commitUsPerMsg.toFixed(1)} µs/msg, flush ${ceiling.syncMsPerBatch.toFixed(1)} ms/batch)`,
  );
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
      note:
        `the store alone, no network, reaches ${(ceiling.perSec / 1000).toFixed(1)}k msg/s here (${ceiling.commitUsPerMsg.toFixed(0)} µs of commit per message)` +
        (ours.seek.bounded ? '' : '; ours: no step failed, the ceiling is higher than shown'),
      detail: { ours: ours.seek, baseline: base.seek, storageCeiling: ceiling },
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
