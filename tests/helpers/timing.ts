/**
 * How long things may take when the machine is busy. The suite runs beside other work (load 14
 * on 2 cores has been seen): every wait in the tests polls or awaits its condition and ends as
 * soon as it holds, and these constants are only the deadlines after which a wait gives up, so
 * they cost nothing when all is well.
 *
 * They scale with the load per core when a test file starts (each file loads this afresh), and
 * CHANDLER_TEST_SLOWDOWN=3 sets the factor by hand for a machine slower still. The base values
 * hold up to about 4 runnable processes per core; the 1-minute load average lags behind a load
 * that has just begun, so the base values alone must already be generous.
 */
import { availableParallelism, loadavg } from 'node:os';

const fromEnv = Number(process.env.CHANDLER_TEST_SLOWDOWN);

/** The factor every deadline below is multiplied by (at least 1). */
export const SLOWDOWN = fromEnv > 0 ? fromEnv : Math.max(1, loadavg()[0]! / availableParallelism() / 4);

/** The deadlines at a factor of 1; vitest.config.ts starts from these too. */
export const BASE = (() => {
  const loaded = 30_000;
  const child = 30_000;
  return { loaded, process: child, test: 2 * loaded, hook: child + 2 * loaded };
})();

const scaled = (ms: number) => Math.round(ms * SLOWDOWN);

/** How long one condition may take to hold on a loaded machine: an event to arrive, a state to settle, a reply. */
export const LOADED_MS = scaled(BASE.loaded);

/** How long one `node --import tsx` child may take on a loaded machine to start and do a short job (5–15 s seen at load 14). */
export const PROCESS_MS = scaled(BASE.process);

/** A test's own deadline: a few conditions in a row. */
export const TEST_MS = scaled(BASE.test);

/** A hook's deadline: it may start the authority as a process and wait for a condition or two. */
export const HOOK_MS = scaled(BASE.hook);

/** The deadline of a test that runs `processes` tsx children one after the other (plus conditions of its own). */
export function processTestMs(processes: number): number {
  return processes * PROCESS_MS + TEST_MS;
}
