/**
 * Direct messages, end to end: pairs of friends, one side of every pair in each of two
 * processes, each user a real client core with the real DM engine over @roamhq/wrtc.
 * Setup: from the first DM to a friend (no channel yet) until the data channel is open.
 * Rate: a burst of 100-byte DMs over the open channel, from the first send to the last one
 * decrypted and stored by the friend (one clock: both processes read CLOCK_MONOTONIC).
 */
import { Child } from '../ipc.js';
import { ServerUnderTest } from '../server-process.js';
import { accountName, type AccountSeed } from '../servers/types.js';
import type { Figure } from '../report.js';
import { BENCH_PASSWORD, type BenchContext } from './common.js';

const PEER_ENTRY = 'bench/dm/peer.ts';
const DM_BYTES = 100;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** DMs sent and received, unmeasured, before the timed bursts. */
const WARMUP_DMS = 2000;

/** DMs in flight at once during the burst (the engine sends one conversation in order anyway). */
const WINDOW = 256;

export async function measureDm(ctx: BenchContext, pairs = ctx.quick ? 3 : 8, burst = ctx.quick ? 5000 : 20_000, maxMs = ctx.quick ? 4000 : 10_000) {
  const seedA: AccountSeed = { prefix: 'dma', count: pairs, password: BENCH_PASSWORD, stretching: 'cheap', rooms: 'none' };
  const seedB: AccountSeed = { prefix: 'dmb', count: pairs, password: BENCH_PASSWORD, stretching: 'cheap', rooms: 'none' };
  const server = await ServerUnderTest.start('authority', { accounts: [seedA, seedB] });
  const sides = [new Child(PEER_ENTRY), new Child(PEER_ENTRY)] as const;
  const profileDir = ctx.profileDir;
  const [A, B] = sides;
  try {
    const names = Array.from({ length: pairs }, (_, i) => [accountName(seedA.prefix, i), accountName(seedB.prefix, i)] as const);
    const login = (c: Child, username: string) =>
      c.call('login', { url: server.ready.url, fingerprint: server.ready.fingerprint, username, password: BENCH_PASSWORD });
    for (const [a, b] of names) await Promise.all([login(A, a), login(B, b)]);
    for (const [a, b] of names) {
      await A.call('befriend', { username: a, friend: b, accept: false });
      await B.call('befriend', { username: b, friend: a, accept: true });
    }
    for (const [a, b] of names) await Promise.all([A.call('ready', { username: a, friend: b }), B.call('ready', { username: b, friend: a })]);

    const setups: number[] = [];
    for (const [a, b] of names) {
      const r = await A.call<{ setupMs: number | null; path: string | null; sentMs: number }>('setup', { username: a, friend: b });
      if (r.setupMs === null || r.path !== 'direct') throw new Error(`no direct channel between ${a} and ${b}: the first DM went ${r.path}`);
      setups.push(r.setupMs);
      ctx.log(`  channel ${a} → ${b}: open in ${r.setupMs.toFixed(1)} ms`);
    }

    // Warm-up, as every other scenario has: the first thousands of DMs run through a cold JIT.
    {
      const [a, b] = names[0]!;
      await B.call('expect', { username: b });
      const warm = await A.call<{ sent: number }>('burst', { username: a, friend: b, count: Math.min(WARMUP_DMS, burst), bytes: DM_BYTES, window: WINDOW, maxMs }, 300_000);
      await B.call('received', { username: b, count: warm.sent }, 300_000);
    }

    const rates: number[] = [];
    const ratePairs = ctx.quick ? 1 : 2;
    for (const [a, b] of names.slice(0, ratePairs)) {
      await B.call('expect', { username: b, profileDir });
      const sent = await A.call<{ startUs: number; sentUs: number; sent: number; paths: Record<string, number>; failed: number; cpuShare: number }>(
        'burst',
        { username: a, friend: b, count: burst, bytes: DM_BYTES, window: WINDOW, maxMs, profileDir },
        300_000,
      );
      const got = await B.call<{ received: number; lastAtUs: number; cpuShare: number }>(
        'received',
        { username: b, count: sent.sent, profileDir },
        300_000,
      );
      const seconds = (got.lastAtUs - sent.startUs) / 1e6;
      const rate = sent.sent / seconds;
      rates.push(rate);
      ctx.log(
        `  ${sent.sent} DMs ${a} → ${b}: ${rate.toFixed(0)}/s (paths ${JSON.stringify(sent.paths)}, ${sent.failed} failed, ${got.received} received;` +
          ` sent in ${((sent.sentUs - sent.startUs) / 1000).toFixed(0)} ms, sender CPU ${(sent.cpuShare * 100).toFixed(0)} %, receiver CPU ${(got.cpuShare * 100).toFixed(0)} %)`,
      );
      if (sent.failed > 0 || (sent.paths.direct ?? 0) !== sent.sent) throw new Error(`the burst did not all go direct: ${JSON.stringify(sent.paths)}`);
    }
    return { setups, setupMedianMs: median(setups), setupMaxMs: Math.max(...setups), rates, rate: median(rates) };
  } finally {
    await Promise.all(sides.map((c) => c.call('close', {}, 30_000).catch(() => undefined)));
    await Promise.all(sides.map((c) => c.stop()));
    await server.stop();
  }
}

export async function dmFigures(ctx: BenchContext): Promise<Figure[]> {
  ctx.log('dm: direct channels between friends (WebRTC, @roamhq/wrtc), DMs sealed with NaCl');
  const r = await measureDm(ctx);
  const none = 'no baseline: the bare ws server has no DMs';
  return [
    {
      id: 'dm_setup',
      label: `DM direct-channel setup (median of ${r.setups.length} pairs)`,
      unit: 'ms',
      ours: r.setupMedianMs,
      baseline: null,
      better: 'lower',
      target: '≤ 150 ms',
      met: r.setupMedianMs <= 150,
      note: `${none}; slowest pair ${r.setupMaxMs.toFixed(0)} ms`,
      detail: r,
    },
    {
      id: 'dm_rate',
      label: 'encrypted DMs/s per pair (direct, stored on receipt)',
      unit: 'DM/s',
      ours: r.rate,
      baseline: null,
      better: 'higher',
      target: '≥ 5k/s',
      met: r.rate >= 5000,
      note: none,
      detail: r,
    },
  ];
}
