/** What every scenario shares: options, the server + clients lifecycle, and the rate seek. */
import { LoadGen, type ServerCounters, type StepResult } from '../loadgen/pool.js';
import type { ClientSpec } from '../loadgen/protocol.js';
import { ServerUnderTest, type ServerKind, type ServerOptions } from '../server-process.js';
import { accountName, roomOf, sessionToken, type AccountSeed } from '../servers/types.js';

export interface BenchContext {
  quick: boolean;
  /** Load-generator processes. */
  procs: number;
  /** Write V8 CPU profiles of our authority here. */
  profileDir?: string;
  log(line: string): void;
}

/** Satisfies the password policy (12+ characters, one not a letter or digit). */
export const BENCH_PASSWORD = 'bench-password-1!';

/**
 * Client specs for a seed's accounts; room indexes are the order in which rooms first appear.
 * Clients of our authority come in with their seeded session (resume), not a password.
 */
export function specsFor(seed: AccountSeed, sends: (i: number) => boolean = () => true): ClientSpec[] {
  const roomIndex = new Map<string, number>();
  return Array.from({ length: seed.count }, (_, i) => {
    const room = roomOf(seed, i) ?? '';
    if (!roomIndex.has(room)) roomIndex.set(room, roomIndex.size);
    return {
      index: i,
      username: accountName(seed.prefix, i),
      password: seed.password,
      token: sessionToken(accountName(seed.prefix, i)),
      room,
      roomIndex: roomIndex.get(room)!,
      sends: sends(i),
    };
  });
}

/** Starts a server and a load generator, connects the clients, runs `fn`, and stops both. */
export async function withClients<T>(
  ctx: BenchContext,
  kind: ServerKind,
  server: ServerOptions,
  clients: ClientSpec[],
  fn: (lg: LoadGen, s: ServerUnderTest) => Promise<T>,
): Promise<T> {
  const s = await ServerUnderTest.start(kind, { ...server, profileDir: kind === 'authority' ? ctx.profileDir : undefined });
  logSeeding(ctx, s);
  const lg = LoadGen.start(ctx.procs);
  lg.serverStats = () => s.stats<ServerCounters | null>();
  try {
    const c = await lg.connect(s.endpoint(), clients);
    if (c.failed > 0) throw new Error(`${kind}: ${c.failed} clients could not log in: ${JSON.stringify(c.errors)}`);
    ctx.log(`  ${kind}: ${c.connected} clients logged in in ${(c.ms / 1000).toFixed(1)} s`);
    return await fn(lg, s);
  } finally {
    await lg.stop();
    await s.stop();
  }
}

/** How long our authority took to write its accounts (their OPAQUE records are most of it). */
export function logSeeding(ctx: BenchContext, s: ServerUnderTest): void {
  const seeded = s.ready.seeded;
  if (!seeded || seeded.accounts === 0) return;
  ctx.log(`  ${s.kind}: ${seeded.accounts} accounts seeded (${seeded.records} OPAQUE records) in ${(seeded.ms / 1000).toFixed(1)} s`);
}

/** CPU pressure (%) from which a step is flagged as measured on a crowded machine. */
export const NOISY_PRESSURE = 20;

export function describeStep(r: StepResult, fanout: number): string {
  const rate = r.rate * fanout;
  const verdict = r.pass ? 'ok' : `FAIL (${r.why})`;
  return (
    `${fmtRate(rate)}/s: p50 ${r.latency.p50Ms.toFixed(1)} ms, p99 ${r.latency.p99Ms.toFixed(1)} ms, ` +
    `ack p99 ${r.ack.p99Ms.toFixed(1)} ms, server CPU ${r.serverCpuPct.toFixed(0)} %, ` +
    `generator lag p99 ${r.genLagP99Ms.toFixed(1)} ms, machine ${r.machineBusyCores.toFixed(1)} cores busy` +
    (r.commit ? `, ${r.commit.batches} batches of ${r.commit.messagesPerBatch.toFixed(1)}, WAL flush ${r.commit.syncMsMean.toFixed(2)} ms (worst ${r.commit.syncMsMax.toFixed(1)}), WAL ${r.commit.walMiB.toFixed(0)} MiB, loop delay p99 ${r.commit.loopP99Ms.toFixed(1)} ms, max ${r.commit.loopMaxMs.toFixed(1)} ms` : '') +
    (r.cpuPressure !== null && r.cpuPressure >= NOISY_PRESSURE ? ` (CPU pressure ${r.cpuPressure.toFixed(0)} %: noisy)` : '') +
    ` — ${verdict}`
  );
}

export function fmtRate(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return n.toFixed(0);
}

export interface SeekOptions {
  /** Messages per second to try first. */
  start: number;
  /** Growth between steps until one fails. */
  factor: number;
  /** Halvings of the interval between the last pass and the first failure. */
  bisect: number;
  durationMs: number;
  maxSteps: number;
  /** Deliveries per message, for the log. */
  fanout: number;
  /** Run a failed step once more before believing it (a full run: other work on the machine comes and goes). */
  confirm?: boolean;
}

export interface SeekResult {
  best: StepResult | null;
  steps: StepResult[];
  /** False when every step passed: the best rate is then only a lower bound. */
  bounded: boolean;
}

/**
 * The highest offered rate that passes (zero loss, no duplicates, no errors or closes, p99 ≤ 100
 * ms): grow geometrically until a step fails, then bisect. When the first step fails, go down.
 * With `confirm`, a failing rate is tried twice, and passes if either try does.
 */
export async function seek(ctx: BenchContext, lg: LoadGen, label: string, o: SeekOptions): Promise<SeekResult> {
  const steps: StepResult[] = [];
  const once = async (rate: number) => {
    const r = await lg.step(rate, o.durationMs);
    steps.push(r);
    ctx.log(`  ${label} ${describeStep(r, o.fanout)}`);
    return r;
  };
  const run = async (rate: number) => {
    const r = await once(rate);
    if (r.pass || !o.confirm) return r;
    ctx.log(`  ${label} once more to confirm:`);
    return once(rate);
  };
  let best: StepResult | null = null;
  let failRate: number | null = null;
  let rate = o.start;
  let tried = 0;
  while (tried++ < o.maxSteps) {
    const r = await run(rate);
    if (r.pass) {
      best = r;
      if (failRate !== null) break;
      rate *= o.factor;
    } else {
      failRate = rate;
      if (best) break;
      rate /= o.factor * o.factor;
    }
  }
  for (let i = 0; i < o.bisect && best && failRate !== null; i++) {
    const mid = Math.sqrt(best.rate * failRate);
    if (mid / best.rate < 1.04) break;
    const r = await run(mid);
    if (r.pass) best = r;
    else failRate = mid;
  }
  return { best, steps, bounded: failRate !== null };
}
