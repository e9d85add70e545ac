/**
 * `npm run bench [-- --quick] [--only a,b] [--procs N] [--profile]`
 *
 * Runs every scenario against our authority (plaintext on 127.0.0.1, plus one TLS figure) and
 * against a bare `ws` broadcast server corked per loop turn, started here in the same run;
 * prints each figure with its ratio to that baseline, writes the JSON under bench/results/, and
 * ends with one line that sums the ratios up. Each server and each load generator runs in a
 * process of its own; everything targets 127.0.0.1 and stops by itself.
 */
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from './ipc.js';
import { cpuPressure } from './proc-stats.js';
import { summary, table, writeResults, type Figure } from './report.js';
import { NOISY_PRESSURE, type BenchContext } from './scenarios/common.js';
import { dmFigures } from './scenarios/dm.js';
import { durableFigures } from './scenarios/durable.js';
import { fanoutFigure } from './scenarios/fanout.js';
import { historyFigure } from './scenarios/history.js';
import { keyLogFigures } from './scenarios/keylog.js';
import { loginFigures } from './scenarios/login.js';
import { memoryFigure } from './scenarios/memory.js';
import { stormFigure } from './scenarios/storm.js';

const SCENARIOS: Record<string, (ctx: BenchContext) => Promise<Figure | Figure[]>> = {
  fanout1: (ctx) => fanoutFigure(ctx, 1),
  fanout5: (ctx) => fanoutFigure(ctx, 5),
  tls: (ctx) => fanoutFigure(ctx, 1, true),
  memory: memoryFigure,
  durable: durableFigures,
  history: historyFigure,
  storm: stormFigure,
  login: loginFigures,
  dm: dmFigures,
  keylog: keyLogFigures,
};

/** The whole run is cut after this, whatever happens (children are killed by PID on exit). */
const DEADLINE_MS = { quick: 8 * 60_000, full: 25 * 60_000 };

const USAGE =
  `usage: npm run bench -- [--quick] [--only ${Object.keys(SCENARIOS).join(',')}] [--procs N] [--profile] [--wait-quiet SECONDS]\n` +
  '  --wait-quiet: before each scenario, wait up to SECONDS for the CPU pressure from other work to drop';

/** Waits (up to `seconds`) until the CPU pressure from other work has stayed low for a while. */
async function waitForQuiet(ctx: BenchContext, seconds: number): Promise<void> {
  const end = Date.now() + seconds * 1000;
  let calm = 0;
  let said = false;
  while (Date.now() < end) {
    const p = cpuPressure();
    if (p === null) return;
    calm = p < NOISY_PRESSURE ? calm + 1 : 0;
    if (calm >= QUIET_POLLS) return;
    if (!said && calm === 0) {
      ctx.log(`  waiting for other work to quiet down (CPU pressure ${p.toFixed(0)} %)`);
      said = true;
    }
    await new Promise((r) => setTimeout(r, QUIET_POLL_MS));
  }
  ctx.log(`  still busy after ${seconds} s: measuring anyway`);
}

const QUIET_POLL_MS = 2000;
/** Consecutive calm polls wanted (the pressure figure averages the last 10 s). */
const QUIET_POLLS = 3;

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        quick: { type: 'boolean' },
        only: { type: 'string' },
        procs: { type: 'string' },
        profile: { type: 'boolean' },
        'wait-quiet': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const names = values.only ? values.only.split(',').map((s) => s.trim()) : Object.keys(SCENARIOS);
  const unknown = names.filter((n) => !SCENARIOS[n]);
  if (unknown.length) {
    process.stderr.write(`unknown scenario(s): ${unknown.join(', ')}\n${USAGE}\n`);
    return 2;
  }
  const procs = values.procs ? Number(values.procs) : 2;
  if (!Number.isInteger(procs) || procs < 1 || procs > 16) {
    process.stderr.write(`--procs takes 1–16\n`);
    return 2;
  }
  const quick = values.quick ?? false;
  const waitQuietS = values['wait-quiet'] === undefined ? 0 : Number(values['wait-quiet']);
  if (!Number.isFinite(waitQuietS) || waitQuietS < 0 || waitQuietS > 3600) {
    process.stderr.write(`--wait-quiet takes 0–3600 seconds\n`);
    return 2;
  }
  const resultsDir = join(REPO_ROOT, 'bench', 'results');
  const ctx: BenchContext = {
    quick,
    procs,
    profileDir: values.profile ? join(resultsDir, 'profiles') : undefined,
    log: (line) => process.stdout.write(`${line}\n`),
  };
  const deadlineMs = (quick ? DEADLINE_MS.quick : DEADLINE_MS.full) + waitQuietS * 1000 * names.length;
  const deadline = setTimeout(() => {
    process.stderr.write(`bench: over the ${quick ? 'quick' : 'full'} run's time limit, stopping\n`);
    process.exit(3);
  }, deadlineMs);
  deadline.unref();

  const started = Date.now();
  const machine = {
    cores: availableParallelism(),
    cpu: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    loadavgAtStart: loadavg(),
    cpuPressureAtStart: cpuPressure(),
  };
  ctx.log(
    `CHandler bench (${quick ? 'quick' : 'full'}): ${names.join(', ')}; ${machine.cores} cores, ` +
      `load average ${machine.loadavgAtStart.map((l) => l.toFixed(2)).join(' ')}, CPU pressure ${machine.cpuPressureAtStart ?? '?'} %`,
  );
  if ((machine.cpuPressureAtStart ?? 0) >= NOISY_PRESSURE) {
    ctx.log(`  warning: other work is competing for the CPUs: figures will be low and noisy; repeat them on a quiet machine`);
  }
  const figures: Figure[] = [];
  const failures: { scenario: string; error: string }[] = [];
  for (const name of names) {
    if (waitQuietS > 0) await waitForQuiet(ctx, waitQuietS);
    const t = Date.now();
    try {
      const out = await SCENARIOS[name]!(ctx);
      figures.push(...(Array.isArray(out) ? out : [out]));
    } catch (err) {
      const error = (err as Error)?.stack ?? String(err);
      failures.push({ scenario: name, error });
      ctx.log(`${name}: FAILED: ${error}`);
    }
    ctx.log(`  (${name}: ${((Date.now() - t) / 1000).toFixed(0)} s)`);
  }
  const seconds = (Date.now() - started) / 1000;
  const file = writeResults(resultsDir, {
    mode: quick ? 'quick' : 'full',
    startedAt: new Date(started).toISOString(),
    seconds,
    machine: { ...machine, loadavgAtEnd: loadavg(), cpuPressureAtEnd: cpuPressure() },
    figures,
    failures,
  });
  ctx.log('');
  ctx.log(table(figures));
  ctx.log('');
  ctx.log(`results: ${file} (${seconds.toFixed(0)} s)${failures.length ? `; ${failures.length} scenario(s) FAILED: ${failures.map((f) => f.scenario).join(', ')}` : ''}`);
  ctx.log(summary(figures));
  return failures.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
