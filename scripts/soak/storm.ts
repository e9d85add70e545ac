/**
 * Reconnect storm soak: `npx tsx scripts/soak/storm.ts [--clients 1000] [--rounds 3] [--away 300]`.
 * A real authority on 127.0.0.1 (port 0, temp dir) and that many real client cores in this
 * process; every round cuts every socket at once, posts while they are away and while they come
 * back, and checks that each client ends with every message exactly once. Exits 0 only when
 * there is no gap and no duplicate; stops by itself (each phase has a time limit).
 */
import { startAuthority } from '../../tests/helpers/authority.js';
import { runStorm } from '../../tests/reliability/support/storm.js';
import { numberArgs } from '../../tests/reliability/support/util.js';

const args = numberArgs(process.argv.slice(2), { clients: 1000, rounds: 3, away: 300, trickle: 10, timeout: 180 });
const started = Date.now();
const t = await startAuthority({
  hashWorkers: 2,
  limits: { connectionsPerIp: args.clients + 50, socketsPerIp: args.clients + 100, newSocketsPerSecondPerIp: args.clients, newSocketBurstPerIp: args.clients * 2, messagesPerSecond: 100_000, messageBurst: 100_000 },
});
let code = 1;
try {
  const r = await runStorm(t, {
    clients: args.clients,
    rounds: args.rounds,
    whileAway: args.away,
    trickleMs: args.trickle,
    // The client core's own defaults start at 500 ms; the ceiling is lower so a soak stays short.
    backoff: { initialMs: 500, maxMs: 8000 },
    recoverTimeoutMs: args.timeout * 1000,
    setupConcurrency: 32,
    log: (line) => console.log(line),
  });
  for (const f of r.findings) console.log(`problem: ${f}`);
  console.log(
    `clients=${r.clients} rounds=${r.rounds} dropped=${r.dropped} recovered=${r.recovered} reconnect_attempts=${r.reconnectAttempts} ` +
      `messages_posted=${r.posted} messages_checked=${r.messagesChecked} gaps=${r.gaps} duplicates=${r.duplicates} ` +
      `wrong_text=${r.wrongText} slowest_recovery_ms=${r.recoverMs} rss_mb=${Math.round(process.memoryUsage().rss / 2 ** 20)} ` +
      `seconds=${Math.round((Date.now() - started) / 1000)}`,
  );
  code = r.gaps + r.duplicates + r.wrongText === 0 && r.recovered === r.clients ? 0 : 1;
} catch (err) {
  console.error(`storm failed: ${(err as Error).message}`);
} finally {
  await t.cleanup();
}
process.exit(code);
