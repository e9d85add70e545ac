/**
 * History: pages of 50 from a room of 10 million messages, at several depths (newest, middle,
 * oldest), one request at a time over a WebSocket. The store is generated once into
 * bench/cache/ (git-ignored) and reused by later runs.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Store } from '../../authority/src/store/index.js';
import { DEFAULT_ROOM } from '../../authority/src/store/rooms.js';
import { Histogram } from '../histogram.js';
import { LoadGen } from '../loadgen/pool.js';
import { REPO_ROOT } from '../ipc.js';
import { ServerUnderTest, type ServerKind } from '../server-process.js';
import type { AccountSeed } from '../servers/types.js';
import type { Figure } from '../report.js';
import { BENCH_PASSWORD, specsFor, type BenchContext } from './common.js';

export const HISTORY_MESSAGES = 10_000_000;
export const PAGE = 50;
const CHUNK = 1_000_000;
const HISTORY_TEXT_BYTES = 100;
const MARKER = 'complete.json';
/**
 * "Flat in depth": the typical (median) page at the slowest depth within this factor of the
 * fastest depth's, or within a tenth of a millisecond. Medians, because a p99 of a few thousand
 * requests moves with whatever else the machine does; the p99 is held to its own target.
 */
const FLAT_FACTOR = 1.5;
const FLAT_NOISE_MS = 0.1;

export function historyCacheDir(messages: number): string {
  return join(REPO_ROOT, 'bench', 'cache', `history-${messages}`);
}

/** Builds the big room once: dense sequence numbers 1..n in Général, 100-byte texts. */
export function ensureHistoryCache(ctx: BenchContext, messages = HISTORY_MESSAGES): string {
  const dir = historyCacheDir(messages);
  const marker = join(dir, MARKER);
  if (existsSync(marker)) {
    const m = JSON.parse(readFileSync(marker, 'utf8')) as { messages: number };
    if (m.messages === messages) return dir;
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  ctx.log(`  generating the ${messages.toLocaleString('en')}-message history store once (cached in ${dir})`);
  const started = performance.now();
  const store = Store.openInDir(dir); // schema and migrations, exactly as the authority makes them
  const roomId = store.rooms.byName(DEFAULT_ROOM)!.id;
  const file = store.file;
  store.close();
  const db = new Database(file);
  db.pragma('journal_mode = OFF');
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -262144');
  const insert = db.prepare(
    `WITH RECURSIVE s(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM s WHERE i < ?)
     INSERT INTO messages (room_id, seq, author_id, author_name, client_id, text, ts)
     SELECT ?, i, NULL, 'history', printf('h%010d', i),
            substr(printf('message %d ', i) || ?, 1, ${HISTORY_TEXT_BYTES}), 1700000000000 + i FROM s`,
  );
  const pad = 'x'.repeat(HISTORY_TEXT_BYTES);
  for (let from = 1; from <= messages; from += CHUNK) {
    const to = Math.min(messages, from + CHUNK - 1);
    db.transaction(() => insert.run(from, to, roomId, pad))();
    ctx.log(`    ${to.toLocaleString('en')} messages (${((performance.now() - started) / 1000).toFixed(0)} s)`);
  }
  db.pragma('journal_mode = WAL');
  db.close();
  writeFileSync(marker, `${JSON.stringify({ messages, room: DEFAULT_ROOM, created: new Date().toISOString() })}\n`);
  ctx.log(`  history store ready in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  return dir;
}

export interface DepthResult {
  before: number;
  p50Ms: number;
  p99Ms: number;
  badPages: number;
}

export async function measureHistory(ctx: BenchContext, kind: ServerKind, messages = HISTORY_MESSAGES, perDepth?: number) {
  const seed: AccountSeed = { prefix: 'hist', count: 1, password: BENCH_PASSWORD, stretching: 'cheap', rooms: 'general' };
  const dataDir = kind === 'authority' ? ensureHistoryCache(ctx, messages) : undefined;
  const t = performance.now();
  const s = await ServerUnderTest.start(kind, { accounts: [seed], dataDir });
  ctx.log(`  ${kind}: started in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  const lg = LoadGen.start(1);
  try {
    const c = await lg.connect(s.endpoint(), specsFor(seed, () => false));
    if (c.failed > 0) throw new Error(`${kind}: history client could not log in: ${JSON.stringify(c.errors)}`);
    const depths = [messages + 1, Math.round(messages * 0.75), Math.round(messages / 2), Math.round(messages / 4), PAGE + 1];
    const n = perDepth ?? (ctx.quick ? 300 : 2000);
    await lg.history({ room: seed.rooms === 'general' ? DEFAULT_ROOM : '', limit: PAGE, depths, perDepth: 50 }); // warm-up
    const reply = await lg.history({ room: DEFAULT_ROOM, limit: PAGE, depths, perDepth: n });
    const results: DepthResult[] = reply.perDepth.map((d) => {
      const h = new Histogram();
      h.merge(d.latency.data, d.latency.max);
      return { before: d.before, p50Ms: h.quantile(0.5) / 1000, p99Ms: h.quantile(0.99) / 1000, badPages: d.badPages };
    });
    for (const r of results) {
      ctx.log(`  ${kind}: page before ${r.before}: p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms${r.badPages ? `, ${r.badPages} BAD PAGES` : ''}`);
    }
    const worst = Math.max(...results.map((r) => r.p99Ms));
    const p50s = results.map((r) => r.p50Ms);
    const slow = Math.max(...p50s);
    const fast = Math.min(...p50s);
    const flat = slow <= fast * FLAT_FACTOR || slow - fast <= FLAT_NOISE_MS;
    return { depths: results, p99Ms: worst, flat, badPages: results.reduce((a, r) => a + r.badPages, 0) };
  } finally {
    await lg.stop();
    await s.stop();
  }
}

export async function historyFigure(ctx: BenchContext): Promise<Figure> {
  ctx.log(`history: pages of ${PAGE} in a room of ${HISTORY_MESSAGES.toLocaleString('en')} messages`);
  const base = await measureHistory(ctx, 'baseline');
  const ours = await measureHistory(ctx, 'authority');
  return {
    id: 'history_p99',
    label: `history page of ${PAGE}, room of ${HISTORY_MESSAGES / 1e6}M (p99, worst depth)`,
    unit: 'ms',
    ours: ours.p99Ms,
    baseline: base.p99Ms,
    better: 'lower',
    target: '≤ 2 ms, flat in depth',
    met: ours.p99Ms <= 2 && ours.flat && ours.badPages === 0,
    note: ours.flat ? undefined : 'not flat in depth',
    detail: { ours, baseline: base },
  };
}
