/**
 * Hostile-input soak: `npx tsx scripts/soak/fuzz.ts [--frames 100000] [--seed N] [--minutes 30]`.
 * Generated frames of every request type (anonymous, user, admin; OPAQUE exchanges with hostile
 * or replayed finishes among them) against a real authority on 127.0.0.1 (port 0, temp dir, the
 * login throttles lifted so that OPAQUE's steps are reached), checked as in
 * tests/reliability/fuzz.test.ts: every frame answered or closed with a documented code, no
 * crash, no hang, no corrupted row, nothing raw in the logs. Stops by itself at the frame count
 * or the time limit; exits 0 only when clean.
 */
import { startAuthority } from '../../tests/helpers/authority.js';
import { FUZZ_LIMITS, runFuzz } from '../../tests/reliability/support/fuzz.js';
import { numberArgs } from '../../tests/reliability/support/util.js';

const args = numberArgs(process.argv.slice(2), { frames: 100_000, seed: Date.now() % 2 ** 31, minutes: 30, parallel: 8, 'per-connection': 60 });
console.log(`seed=${args.seed} (replay the same frames with --seed ${args.seed})`);
const t = await startAuthority({ hashWorkers: 2, limits: FUZZ_LIMITS });
let code = 1;
try {
  const r = await runFuzz(t, {
    frames: args.frames,
    seed: args.seed,
    parallel: args.parallel,
    maxFramesPerConn: args['per-connection'],
    timeBudgetMs: args.minutes * 60_000,
    replyTimeoutMs: 15_000,
    log: (line) => console.log(line),
  });
  const counts = (o: Record<string, number>) => Object.entries(o).sort(([, a], [, b]) => b - a).map(([k, v]) => `${k}:${v}`).join(',');
  const unreached = Object.entries(r.coverage).filter(([, c]) => c.handled === 0).map(([k]) => k);
  for (const v of r.violations) console.log(`violation: ${v}`);
  console.log(`replies_by_code=${counts(r.replies)}`);
  console.log(`closes_by_code=${counts(r.closes)}`);
  console.log(`types_unreached=${unreached.join(',') || 'none'}`);
  console.log(
    `frames=${r.frames} runs=${r.runs} connections=${r.connections.anonymous + r.connections.user + r.connections.admin} ` +
      `crashes=${r.crashes} hangs=${r.hangs} internal_errors=${r.internalErrors} violations=${r.violations.length} ` +
      `stored_messages_checked=${r.storedMessagesChecked} broadcasts_compared=${r.broadcastsCompared} rows_checked=${r.rowsChecked} ` +
      `log_lines_checked=${r.logLinesChecked} integrity=${r.integrity} rss_mb=${Math.round(process.memoryUsage().rss / 2 ** 20)} seconds=${r.seconds}`,
  );
  code = r.violations.length === 0 && r.frames >= args.frames ? 0 : 1;
  if (r.frames < args.frames) console.log(`stopped by the time limit before ${args.frames} frames`);
} catch (err) {
  console.error(`fuzz soak failed: ${(err as Error).stack ?? String(err)}`);
} finally {
  await t.cleanup();
}
process.exit(code);
