/** Small async helpers for the reliability tests and soak scripts. */

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls until the predicate holds; throws with the label when the time is up. */
export async function waitFor(predicate: () => boolean, label: string, timeoutMs: number, everyMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${label}`);
    await sleep(everyMs);
  }
}

/** Runs fn(0..n-1) with at most `width` calls in flight; results in index order. */
export async function pool<T>(n: number, width: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(n);
  let next = 0;
  const lanes = Array.from({ length: Math.min(width, n) }, async () => {
    while (next < n) {
      const i = next++;
      out[i] = await fn(i);
    }
  });
  await Promise.all(lanes);
  return out;
}

/** Parses `--name value` pairs of a soak script's command line into numbers. */
export function numberArgs<K extends string>(argv: string[], defaults: Record<K, number>): Record<K, number> {
  const out = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i]!.replace(/^--/, '') as K;
    if (!argv[i]!.startsWith('--') || !(key in defaults)) throw new Error(`unknown option ${argv[i]}; known: ${Object.keys(defaults).map((k) => `--${k}`).join(' ')}`);
    const value = Number(argv[++i]);
    if (!Number.isFinite(value) || value < 0) throw new Error(`--${key} needs a non-negative number`);
    out[key] = value;
  }
  return out;
}
