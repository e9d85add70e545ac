/**
 * Logins before and after OPAQUE, in one run against one authority: whole logins over the
 * WebSocket (the connect, every request, the client's work and the authority's), from a load
 * generator process.
 *
 * Before: accounts made before OPAQUE, with a scrypt hash at the configured cost. Their login is
 * loginStart (answered `legacy`) then legacyLogin, the scrypt check: what a login cost before,
 * plus one round trip and the first half of the new record's registration (under a millisecond
 * of the authority's work, measured below). The migration's registerFinish is never sent, so the
 * accounts stay on scrypt and every round measures the same login. After: OPAQUE accounts at the
 * configured key stretching (the client's Argon2id).
 *
 * One login at a time first (the time a user waits: p50, p99), then LANES at once, each lane
 * from an address of its own (logins/s; the authority's CPU per login). At LANES at once the
 * clients' key stretching all runs in the one generator process, on the cores the authority
 * runs on: OPAQUE's logins/s there are the generator's, not the authority's. Hence a third run,
 * OPAQUE accounts with the cheap stretching (the authority's work in a login is the same at any
 * stretching): the logins/s the authority sustains when its clients bring their own CPUs.
 */
import { Histogram, type LatencySummary } from '../histogram.js';
import { Stormer } from '../loadgen/pool.js';
import type { LoginKind } from '../loadgen/login.js';
import type { StormReply } from '../loadgen/protocol.js';
import { cpuPressure, sampleProc } from '../proc-stats.js';
import type { Figure } from '../report.js';
import { ServerUnderTest } from '../server-process.js';
import { accountName, type AccountSeed } from '../servers/types.js';
import { BENCH_PASSWORD, logSeeding, NOISY_PRESSURE, type BenchContext } from './common.js';

/** Accounts of each kind, taken in turn (an OPAQUE login leaves its account as it was; a legacy one too, unfinished). */
const LOGIN_ACCOUNTS = 16;
/** Logins in flight at once for the rate: enough to keep both of the authority's password workers busy with scrypt. */
const LOGIN_LANES = 8;
/** Unmeasured logins of each kind first (the library's code paths, the store's statements). */
const WARMUP_MS = 500;

export interface LoginOptions {
  /** Accounts of each kind. */
  accounts?: number;
  /** Length of each measured run (by default longer one at a time: its p99 wants the samples). */
  durationMs?: number;
  /** Runs of each measure, the kinds in turn (on a shared machine, noise then spreads over all of them). */
  rounds?: number;
  lanes?: number;
  /** Jobs of each password step timed alone on the authority's idle pool. */
  stepRounds?: number;
}

/** What a measure gave, its runs merged. */
export interface LoginRun {
  logins: number;
  failures: number;
  errors: Record<string, number>;
  latency: LatencySummary;
  perSec: number;
  /** The authority's CPU (every thread) per login; one at a time, its idle work weighs in too. */
  serverCpuMs: number;
  /** The generator's CPU per login: the client's side (its key stretching, mostly). */
  clientCpuMs: number;
  /** The highest CPU pressure seen at the end of a run: from NOISY_PRESSURE, other work was competing. */
  cpuPressure: number | null;
}

interface Measure {
  label: string;
  seed: AccountSeed;
  kind: LoginKind;
  lanes: number;
  runs: { reply: StormReply; serverCpuS: number; pressure: number | null }[];
}

function merged(m: Measure): LoginRun {
  const h = new Histogram();
  const errors: Record<string, number> = {};
  let logins = 0;
  let failures = 0;
  let ms = 0;
  let cpuMs = 0;
  let serverCpuS = 0;
  for (const { reply, serverCpuS: s } of m.runs) {
    h.merge(reply.latency.data, reply.latency.max);
    for (const [k, v] of Object.entries(reply.errors)) errors[k] = (errors[k] ?? 0) + v;
    logins += reply.logins;
    failures += reply.failures;
    ms += reply.ms;
    cpuMs += reply.cpuMs;
    serverCpuS += s;
  }
  const per = (x: number) => (logins > 0 ? x / logins : 0);
  const pressures = m.runs.map((r) => r.pressure).filter((p) => p !== null);
  return {
    logins,
    failures,
    errors,
    latency: h.summary(),
    perSec: ms > 0 ? logins / (ms / 1000) : 0,
    serverCpuMs: per(serverCpuS * 1000),
    clientCpuMs: per(cpuMs),
    cpuPressure: pressures.length ? Math.max(...pressures) : null,
  };
}

function describe(m: Measure, r: LoginRun): string {
  return (
    `${m.label}, ${m.lanes === 1 ? 'one at a time' : `${m.lanes} at once`}: ${r.logins} logins at ${r.perSec.toFixed(1)}/s, ` +
    `p50 ${r.latency.p50Ms.toFixed(1)} ms, p99 ${r.latency.p99Ms.toFixed(1)} ms; CPU per login: authority ${r.serverCpuMs.toFixed(1)} ms, ` +
    `client ${r.clientCpuMs.toFixed(1)} ms` +
    (r.failures ? `; ${r.failures} FAILED ${JSON.stringify(r.errors)}` : '') +
    (r.cpuPressure !== null && r.cpuPressure >= NOISY_PRESSURE ? ` (CPU pressure ${r.cpuPressure.toFixed(0)} %: noisy)` : '')
  );
}

export async function measureLogins(ctx: BenchContext, o: LoginOptions = {}) {
  const oneAtATimeMs = o.durationMs ?? (ctx.quick ? 5000 : 10_000);
  const severalMs = o.durationMs ?? (ctx.quick ? 3000 : 8000);
  const rounds = o.rounds ?? (ctx.quick ? 1 : 2);
  const lanes = o.lanes ?? LOGIN_LANES;
  const seed = (prefix: string, stretching: AccountSeed['stretching']): AccountSeed => ({
    prefix,
    count: o.accounts ?? LOGIN_ACCOUNTS,
    password: BENCH_PASSWORD,
    stretching,
    rooms: 'none',
  });
  const scrypt = seed('lgscrypt', 'legacy');
  const opaque = seed('lgopaque', 'real');
  const cheap = seed('lgcheap', 'cheap');
  const server = await ServerUnderTest.start('authority', { accounts: [scrypt, opaque, cheap], profileDir: ctx.profileDir });
  logSeeding(ctx, server);
  const stormer = await Stormer.start();
  try {
    const once = async (m: Measure, ms: number) => {
      const before = sampleProc(server.pid);
      const reply = await stormer.run({
        url: server.ready.url,
        fingerprint: server.ready.fingerprint,
        kind: m.kind,
        usernames: Array.from({ length: m.seed.count }, (_, i) => accountName(m.seed.prefix, i)),
        password: m.seed.password,
        concurrency: m.lanes,
        durationMs: ms,
        ownAddresses: true,
      });
      return { reply, serverCpuS: sampleProc(server.pid).cpuSeconds - before.cpuSeconds, pressure: cpuPressure() };
    };
    const measure = (label: string, s: AccountSeed, kind: LoginKind, n: number): Measure => ({ label, seed: s, kind, lanes: n, runs: [] });
    const sequential = [measure('scrypt (before)', scrypt, 'legacy', 1), measure('OPAQUE (after)', opaque, 'opaque', 1)];
    const parallel = [
      measure('scrypt (before)', scrypt, 'legacy', lanes),
      measure('OPAQUE (after)', opaque, 'opaque', lanes),
      measure('OPAQUE, cheap client stretching', cheap, 'opaque', lanes),
    ];
    for (const m of [...sequential, parallel[2]!]) {
      const warm = await once(m, WARMUP_MS);
      if (warm.reply.failures) throw new Error(`${m.label}: warm-up logins failed: ${JSON.stringify(warm.reply.errors)}`);
    }
    for (const [group, ms] of [[sequential, oneAtATimeMs], [parallel, severalMs]] as const) {
      for (let i = 0; i < rounds; i++) for (const m of group) m.runs.push(await once(m, ms));
      for (const m of group) ctx.log(`  ${describe(m, merged(m))}`);
    }
    const steps = await server.loginSteps(o.stepRounds ?? (ctx.quick ? 10 : 30));
    ctx.log(
      `  the authority's password workers, one job alone: scrypt check ${steps.scryptVerifyMs.toFixed(1)} ms; ` +
        `OPAQUE loginStart ${steps.opaqueLoginStartMs.toFixed(2)} ms, loginFinish ${steps.opaqueLoginFinishMs.toFixed(2)} ms`,
    );
    const [seqScrypt, seqOpaque] = sequential.map(merged) as [LoginRun, LoginRun];
    const [parScrypt, parOpaque, parCheap] = parallel.map(merged) as [LoginRun, LoginRun, LoginRun];
    return { seqScrypt, seqOpaque, parScrypt, parOpaque, parCheap, steps, lanes };
  } finally {
    await stormer.stop();
    await server.stop();
  }
}

export async function loginFigures(ctx: BenchContext): Promise<Figure[]> {
  ctx.log(
    `login: whole logins over the WebSocket, before OPAQUE (scrypt at the configured cost) and after (OPAQUE at the configured key stretching), one authority`,
  );
  const r = await measureLogins(ctx);
  const all = [r.seqScrypt, r.seqOpaque, r.parScrypt, r.parOpaque, r.parCheap];
  const clean = all.every((x) => x.failures === 0 && x.logins > 0);
  const target = 'informative (no failed login)';
  const before = 'scrypt before OPAQUE';
  const cpu = `authority CPU per login: OPAQUE ${r.parCheap.serverCpuMs.toFixed(1)} ms, scrypt ${r.parScrypt.serverCpuMs.toFixed(1)} ms`;
  return [
    {
      id: 'login_p50',
      label: 'login time p50, one at a time',
      unit: 'ms',
      ours: r.seqOpaque.latency.p50Ms,
      baseline: r.seqScrypt.latency.p50Ms,
      baselineIs: before,
      better: 'lower',
      target,
      met: clean,
      note: `client CPU per login: OPAQUE ${r.seqOpaque.clientCpuMs.toFixed(1)} ms, scrypt ${r.seqScrypt.clientCpuMs.toFixed(1)} ms`,
      detail: { opaque: r.seqOpaque, scrypt: r.seqScrypt },
    },
    {
      id: 'login_p99',
      label: 'login time p99, one at a time',
      unit: 'ms',
      ours: r.seqOpaque.latency.p99Ms,
      baseline: r.seqScrypt.latency.p99Ms,
      baselineIs: before,
      better: 'lower',
      target,
      met: clean,
      detail: { opaque: r.seqOpaque, scrypt: r.seqScrypt },
    },
    {
      id: 'logins_per_sec',
      label: `logins/s, ${r.lanes} at once (every client's key stretching in one generator process)`,
      unit: '/s',
      ours: r.parOpaque.perSec,
      baseline: r.parScrypt.perSec,
      baselineIs: before,
      better: 'higher',
      target,
      met: clean,
      note: `p99 ${r.parOpaque.latency.p99Ms.toFixed(0)} ms vs ${r.parScrypt.latency.p99Ms.toFixed(0)} ms; the generator's CPU was the limit for OPAQUE (${r.parOpaque.clientCpuMs.toFixed(0)} ms per login)`,
      detail: { opaque: r.parOpaque, scrypt: r.parScrypt },
    },
    {
      id: 'logins_per_sec_server',
      label: `logins/s the authority sustains, ${r.lanes} at once (OPAQUE clients: cheap key stretching)`,
      unit: '/s',
      ours: r.parCheap.perSec,
      baseline: r.parScrypt.perSec,
      baselineIs: before,
      better: 'higher',
      target,
      met: clean,
      note:
        `${cpu}; its password workers, one job alone: scrypt check ${r.steps.scryptVerifyMs.toFixed(1)} ms, ` +
        `OPAQUE loginStart ${r.steps.opaqueLoginStartMs.toFixed(2)} ms + loginFinish ${r.steps.opaqueLoginFinishMs.toFixed(2)} ms`,
      detail: { opaqueCheapStretching: r.parCheap, scrypt: r.parScrypt, steps: r.steps },
    },
  ];
}
