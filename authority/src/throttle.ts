/** Counting limits over a sliding window (with attempts reserved before slow work), and a token bucket for rates. */

/**
 * How soon to retry when attempts still under way fill a limit: they end within a hash time
 * or two, and then either count (failures) or free their slot (successes).
 */
export const IN_FLIGHT_RETRY_MS = 1000;

/** Why an attempt may not start: the limit is used up (until the window frees a slot), or attempts under way fill it. */
export type Refusal = { reason: 'limit' | 'inFlight'; until: number };

/**
 * An attempt that holds a slot from its start: `keep` counts it (a failure: it stays in the
 * window), `release` gives the slot back (a success, or an attempt that never ran). Either is
 * final; later calls do nothing.
 */
export interface Reservation {
  keep(now?: number): void;
  release(): void;
}

export class WindowCounter {
  private readonly hits = new Map<string, number[]>();
  private readonly inFlight = new Map<string, number>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  private live(key: string, now: number): number[] {
    const list = (this.hits.get(key) ?? []).filter((t) => t > now - this.windowMs);
    if (list.length) this.hits.set(key, list);
    else this.hits.delete(key);
    return list;
  }

  /** When the key is over its limit: the time it may try again; else null. */
  blockedUntil(key: string, now = Date.now()): number | null {
    const list = this.live(key, now);
    if (list.length < this.limit) return null;
    return (list[list.length - this.limit] ?? now) + this.windowMs;
  }

  hit(key: string, now = Date.now()): void {
    const list = this.live(key, now);
    list.push(now);
    this.hits.set(key, list);
  }

  reset(key: string): void {
    this.hits.delete(key);
  }

  /**
   * Takes a slot before the slow work (a password hash) starts: attempts under way count
   * toward the limit, so parallel requests cannot all pass a check made before any of them
   * is counted. A refusal when the slots are taken.
   */
  reserve(key: string, now = Date.now()): Reservation | Refusal {
    const until = this.blockedUntil(key, now);
    if (until !== null) return { reason: 'limit', until };
    const running = this.inFlight.get(key) ?? 0;
    if (this.live(key, now).length + running >= this.limit) return { reason: 'inFlight', until: now + IN_FLIGHT_RETRY_MS };
    this.inFlight.set(key, running + 1);
    let settled = false;
    const settle = () => {
      if (settled) return false;
      settled = true;
      const n = (this.inFlight.get(key) ?? 1) - 1;
      if (n > 0) this.inFlight.set(key, n);
      else this.inFlight.delete(key);
      return true;
    };
    return {
      keep: (at = Date.now()) => {
        if (settle()) this.hit(key, at);
      },
      release: () => void settle(),
    };
  }

  /** Drops expired keys; called from a periodic timer so memory stays bounded. */
  sweep(now = Date.now()): void {
    for (const key of [...this.hits.keys()]) this.live(key, now);
  }
}

export function isRefusal(r: Reservation | Refusal): r is Refusal {
  return 'until' in r;
}

/**
 * Reserves a slot in each counter, all or none: on the first refusal the slots already taken
 * are given back.
 */
export function reserveAll(slots: [WindowCounter, string][], now = Date.now()): Reservation | Refusal {
  const taken: Reservation[] = [];
  for (const [counter, key] of slots) {
    const r = counter.reserve(key, now);
    if (isRefusal(r)) {
      for (const t of taken) t.release();
      return r;
    }
    taken.push(r);
  }
  return {
    keep: (at) => taken.forEach((t) => t.keep(at)),
    release: () => taken.forEach((t) => t.release()),
  };
}

export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    now = Date.now(),
  ) {
    this.tokens = burst;
    this.last = now;
  }

  /** True when the bucket would be full by now: forgetting it changes nothing. */
  isFull(now = Date.now()): boolean {
    return this.tokens + ((now - this.last) / 1000) * this.ratePerSecond >= this.burst;
  }

  /**
   * For a cost known only afterwards (the bytes of a reply): ok while any token is left, else
   * the time the bucket is out of debt. `spend` then takes the cost, into debt if need be.
   */
  admit(now = Date.now()): { ok: true } | { ok: false; until: number } {
    this.refill(now);
    if (this.tokens > 0) return { ok: true };
    return { ok: false, until: now + Math.ceil(((1 - this.tokens) / this.ratePerSecond) * 1000) };
  }

  spend(amount: number, now = Date.now()): void {
    this.refill(now);
    this.tokens -= amount;
  }

  private refill(now: number): void {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.ratePerSecond);
    this.last = now;
  }

  /** Takes one token; when none is left returns the time one will be there. */
  take(now = Date.now()): { ok: true } | { ok: false; until: number } {
    this.refill(now);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, until: now + Math.ceil(((1 - this.tokens) / this.ratePerSecond) * 1000) };
  }
}

/**
 * One token bucket per key (a user id), made on first use: every connection of a user draws on
 * the same allowance, and reconnecting does not refill it. Full buckets are dropped by sweep.
 */
export class KeyedBuckets {
  private readonly buckets = new Map<string | number, TokenBucket>();

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
  ) {}

  take(key: string | number, now = Date.now()): { ok: true } | { ok: false; until: number } {
    return this.bucket(key, now).take(now);
  }

  admit(key: string | number, now = Date.now()): { ok: true } | { ok: false; until: number } {
    return this.bucket(key, now).admit(now);
  }

  spend(key: string | number, amount: number, now = Date.now()): void {
    this.bucket(key, now).spend(amount, now);
  }

  private bucket(key: string | number, now: number): TokenBucket {
    let bucket = this.buckets.get(key);
    if (!bucket) this.buckets.set(key, (bucket = new TokenBucket(this.ratePerSecond, this.burst, now)));
    return bucket;
  }

  sweep(now = Date.now()): void {
    for (const [key, bucket] of this.buckets) if (bucket.isFull(now)) this.buckets.delete(key);
  }
}
