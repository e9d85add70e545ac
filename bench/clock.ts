/**
 * The one clock of the benchmark: CLOCK_MONOTONIC in microseconds. On Linux every process on
 * the machine reads the same monotonic clock, so a send time written into a message by one
 * load-generator process can be subtracted from a receive time read in another.
 */
export function nowUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
