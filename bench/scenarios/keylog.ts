/**
 * Key transparency's cost per key fetch (issue 13 §3), against one authority whose key log holds
 * 10,000 bindings (2,000 in a quick run) and one client that is friends with accounts spread over
 * the whole log:
 * - the authority: a fetchKeys (the friend's key, its inclusion proof and the signed head) over a
 *   real WebSocket, one at a time, each followed on the same socket by a keyLogHead (answered from
 *   memory: no lookup, no proof), the baseline; and, in its process, its work per proof and per new head;
 * - the client, in the load generator: its checks per fetched key (key-log-watch.ts: the head's
 *   signature, then the inclusion proof), beside the identity's own signature check that every
 *   fetched key had before the log; and a consistency proof from the log at a third of its size
 *   (the client's kept head) to the whole;
 * - the proof's size on the wire.
 * The log's accounts are written into the store with identities published as publishKeys does
 * (bench/servers/identities.ts); they never log in.
 */
import { loadavg } from 'node:os';
import { Histogram, type LatencySummary, type SampleSummary } from '../histogram.js';
import { LoadGen } from '../loadgen/pool.js';
import type { KeyLogReply } from '../loadgen/protocol.js';
import { cpuPressure } from '../proc-stats.js';
import type { Figure } from '../report.js';
import { ServerUnderTest } from '../server-process.js';
import { accountName, type AccountSeed, type KeyLogServerCosts } from '../servers/types.js';
import { BENCH_PASSWORD, logSeeding, NOISY_PRESSURE, specsFor, type BenchContext } from './common.js';

export const KEY_LOG_ENTRIES = { full: 10_000, quick: 2_000 };
/** Friends whose keys the client fetches: leaves spread evenly from the log's first to its last. */
const FRIENDS = 200;
/** The head the client kept from before: the log at this share of its size, far from the newest. */
const OLDER_SHARE = 1 / 3;
/**
 * The client checks every friend's key at each login (keys.ts, pinFriends): at ≤ 1 ms a key, a
 * hundred friends cost it at most a tenth of a second of CPU.
 */
const VERIFY_TARGET_US = 1000;
const PREFIX = 'klog';
const READER: AccountSeed = { prefix: 'klreader', count: 1, password: BENCH_PASSWORD, stretching: 'cheap', rooms: 'none' };
/** What the `log` member adds to a fetchKeys reply besides its value. */
const LOG_KEY_BYTES = ',"log":'.length;
const READER_NAME = accountName(READER.prefix, 0);
export interface KeyLogOptions {
  /** Bindings in the log. */
  entries?: number;
  friends?: number;
  /** Passes over the friends (fetchKeys and keyLogHead each). */
  rounds?: number;
  /** Fetched keys checked, each timed. */
  verifications?: number;
  /** Consistency proofs fetched, and checks of it timed. */
  consistencyRounds?: number;
  /** The authority's in-process timings: passes over the friends' leaves, and head signatures. */
  serverRounds?: number;
  signRounds?: number;
}

export interface KeyLogRun {
  entries: number;
  olderSize: number;
  friends: number;
  fetchKeys: LatencySummary;
  keyLogHead: LatencySummary;
  keyLogConsistency: LatencySummary;
  client: Omit<KeyLogReply, 'fetchKeys' | 'keyLogHead' | 'keyLogConsistency'>;
  server: KeyLogServerCosts;
  seedMs: number;
  /** The machine while this ran: from NOISY_PRESSURE, other work was competing for the cores. */
  cpuPressure: number | null;
  loadavg: number[];
}

function latency(h: { data: [number, number][]; max: number }): LatencySummary {
  const out = new Histogram();
  out.merge(h.data, h.max);
  return out.summary();
}

/** Leaf k of `count` spread evenly over [0, entries): the first and the last leaf included. */
function spread(k: number, count: number, entries: number): number {
  return count === 1 ? 0 : Math.round((k * (entries - 1)) / (count - 1));
}

export async function measureKeyLog(ctx: BenchContext, o: KeyLogOptions = {}): Promise<KeyLogRun> {
  const entries = o.entries ?? (ctx.quick ? KEY_LOG_ENTRIES.quick : KEY_LOG_ENTRIES.full);
  if (entries < 2) throw new Error('the key log needs two bindings at least (an older head and a newer one)');
  const olderSize = Math.max(1, Math.round(entries * OLDER_SHARE));
  const count = Math.min(o.friends ?? FRIENDS, entries);
  const friends = Array.from({ length: count }, (_, k) => accountName(PREFIX, spread(k, count, entries)));
  const server = await ServerUnderTest.start('authority', { accounts: [READER], profileDir: ctx.profileDir });
  logSeeding(ctx, server);
  const lg = LoadGen.start(1);
  try {
    const first = await server.seedKeyLog({ prefix: PREFIX, from: 0, to: olderSize });
    const c = await lg.connect(server.endpoint(), specsFor(READER, () => false));
    if (c.failed > 0) throw new Error(`the key log's client could not log in: ${JSON.stringify(c.errors)}`);
    const older = await lg.keyLogHead(); // the head the client keeps from its last visit
    const rest = await server.seedKeyLog({ prefix: PREFIX, from: olderSize, to: entries, reader: READER_NAME, friends });
    if (rest.size !== entries) throw new Error(`the key log holds ${rest.size} bindings, not ${entries}`);
    const seedMs = first.ms + rest.ms;
    ctx.log(`  authority: ${entries} identities published into its key log, ${count} of them the client's friends, in ${(seedMs / 1000).toFixed(1)} s`);
    const reply = await lg.keyLog({
      friends,
      rounds: o.rounds ?? (ctx.quick ? 3 : 10),
      verifications: o.verifications ?? (ctx.quick ? 200 : 600),
      older,
      consistencyRounds: o.consistencyRounds ?? (ctx.quick ? 100 : 200),
    });
    const pressure = cpuPressure();
    const load = loadavg();
    const serverCosts = await server.keyLogCosts({
      friends,
      from: olderSize,
      rounds: o.serverRounds ?? 5,
      signRounds: o.signRounds ?? 20,
    });
    const { fetchKeys, keyLogHead, keyLogConsistency, ...client } = reply;
    const run: KeyLogRun = {
      entries,
      olderSize,
      friends: count,
      fetchKeys: latency(fetchKeys),
      keyLogHead: latency(keyLogHead),
      keyLogConsistency: latency(keyLogConsistency),
      client,
      server: serverCosts,
      seedMs,
      cpuPressure: pressure,
      loadavg: load,
    };
    for (const line of describe(run)) ctx.log(`  ${line}`);
    return run;
  } finally {
    await lg.stop();
    await server.stop();
  }
}

const us = (s: SampleSummary) => `p50 ${s.p50Us.toFixed(1)} µs, p99 ${s.p99Us.toFixed(1)} µs`;
const ms = (l: LatencySummary) => `p50 ${l.p50Ms.toFixed(3)} ms, p99 ${l.p99Ms.toFixed(3)} ms`;

function describe(r: KeyLogRun): string[] {
  const { verify, sizes } = r.client;
  const noisy = r.cpuPressure !== null && r.cpuPressure >= NOISY_PRESSURE;
  return [
    `round trips, one at a time (${r.fetchKeys.count} of each): fetchKeys ${ms(r.fetchKeys)}; keyLogHead ${ms(r.keyLogHead)}; ` +
      `keyLogConsistency ${ms(r.keyLogConsistency)}`,
    `the authority, in its process: a proof ${us(r.server.inclusion)}; a consistency proof ${us(r.server.consistency)}; ` +
      `signing a new head p50 ${(r.server.headSign.p50Us / 1000).toFixed(1)} ms, p99 ${(r.server.headSign.p99Us / 1000).toFixed(1)} ms`,
    `the client, per fetched key (${verify.both.count}): head signature ${us(verify.head)}, inclusion proof ${us(verify.inclusion)}, ` +
      `as the client does it (the signature once per head) ${us(verify.both)}; the identity's own signature ${us(verify.identity)}`,
    `the client, consistency proof ${r.olderSize} → ${r.entries} (${sizes.consistencyHashes} hashes): ${us(r.client.verifyConsistency)}`,
    `sizes: proof ${sizes.proofBytes.toFixed(0)} B (path of ${sizes.pathHashesMin}–${sizes.pathHashesMax} hashes) in a fetchKeys reply of ` +
      `${sizes.replyBytes.toFixed(0)} B; keyLogHead reply ${sizes.keyLogHeadReplyBytes} B; consistency proof ${sizes.consistencyBytes} B`,
    `${r.client.unverified ? `${r.client.unverified} PROOFS DID NOT VERIFY; ` : ''}` +
      `${Object.keys(r.client.errors).length ? `errors ${JSON.stringify(r.client.errors)}; ` : ''}` +
      `machine: load average ${r.loadavg.map((l) => l.toFixed(2)).join(' ')}, CPU pressure ${r.cpuPressure?.toFixed(0) ?? '?'} %${noisy ? ' (noisy)' : ''}`,
  ];
}

export async function keyLogFigures(ctx: BenchContext): Promise<Figure[]> {
  const entries = ctx.quick ? KEY_LOG_ENTRIES.quick : KEY_LOG_ENTRIES.full;
  ctx.log(`keylog: friends' keys fetched with their proofs from a key log of ${entries.toLocaleString('en')} bindings, and the client's checks`);
  const r = await measureKeyLog(ctx);
  const { verify, sizes } = r.client;
  const clean = r.client.unverified === 0 && Object.keys(r.client.errors).length === 0 && r.fetchKeys.count > 0;
  const floor = 'keyLogHead: no lookup, no proof';
  const before = "the identity's signature alone, as before the log";
  const serverNote =
    `the authority's own work per proof ${r.server.inclusion.p50Us.toFixed(1)} µs (p99 ${r.server.inclusion.p99Us.toFixed(1)}); ` +
    `signing a new head ${(r.server.headSign.p50Us / 1000).toFixed(1)} ms, once per log size (the first proof asked for after a key was published pays it)`;
  const verifyNote =
    `head signature ${verify.head.p50Us.toFixed(0)} µs + inclusion proof ${verify.inclusion.p50Us.toFixed(1)} µs ` +
    `(${sizes.pathHashesMin}–${sizes.pathHashesMax} hashes), p50: the Ed25519 check (tweetnacl) is paid once per new head, the proof on every key`;
  const fetch = (q: 'p50' | 'p99'): Figure => ({
    id: `keylog_fetch_${q}`,
    label: `fetchKeys with its proof, log of ${entries / 1000}k (round trip ${q})`,
    unit: 'ms',
    ours: q === 'p50' ? r.fetchKeys.p50Ms : r.fetchKeys.p99Ms,
    baseline: q === 'p50' ? r.keyLogHead.p50Ms : r.keyLogHead.p99Ms,
    baselineIs: floor,
    better: 'lower',
    target: 'informative (every proof verifies)',
    met: clean,
    note: q === 'p50' ? serverNote : undefined,
    detail: q === 'p50' ? r : undefined, // the whole run, once
  });
  const check = (q: 'p50' | 'p99'): Figure => {
    const oursUs = q === 'p50' ? verify.both.p50Us : verify.both.p99Us;
    return {
      id: `keylog_verify_${q}`,
      label: `client's check per fetched key: inclusion proof, head signature once per head (${q})`,
      unit: 'ms',
      ours: oursUs / 1000,
      baseline: (q === 'p50' ? verify.identity.p50Us : verify.identity.p99Us) / 1000,
      baselineIs: before,
      better: 'lower',
      target: `≤ ${VERIFY_TARGET_US / 1000} ms per key`,
      met: clean && oursUs <= VERIFY_TARGET_US,
      note: q === 'p50' ? verifyNote : undefined,
    };
  };
  return [
    fetch('p50'),
    fetch('p99'),
    check('p50'),
    check('p99'),
    {
      id: 'keylog_consistency_verify',
      label: `client's check of a consistency proof, log of ${r.olderSize} → ${r.entries} (p50)`,
      unit: 'µs',
      ours: r.client.verifyConsistency.p50Us,
      baseline: null,
      better: 'lower',
      target: 'informative',
      met: clean,
      note:
        `p99 ${r.client.verifyConsistency.p99Us.toFixed(1)} µs; ${sizes.consistencyHashes} hashes, ${sizes.consistencyBytes} B; ` +
        `round trip p50 ${r.keyLogConsistency.p50Ms.toFixed(2)} ms (the authority's work ${r.server.consistency.p50Us.toFixed(1)} µs)`,
    },
    {
      id: 'keylog_proof_bytes',
      label: `inclusion proof with its signed head, log of ${entries / 1000}k`,
      unit: 'B',
      ours: sizes.proofBytes,
      baseline: null,
      better: 'lower',
      target: 'informative',
      met: clean,
      note:
        `${sizes.pathHashesMin}–${sizes.pathHashesMax} hashes; the fetchKeys reply ${sizes.replyBytes.toFixed(0)} B, ` +
        `${(sizes.replyBytes - sizes.proofBytes - LOG_KEY_BYTES).toFixed(0)} B without it`,
    },
  ];
}
