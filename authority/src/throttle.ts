/** Counting limits over a sliding window, and a token bucket for rates. */

export class WindowCounter {
  private readonly hits = new Map<string, number[]>();

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

  /** Drops expired keys; called from a periodic timer so memory stays bounded. */
  sweep(now = Date.now()): void {
    for (const key of [...this.hits.keys()]) this.live(key, now);
  }
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

  /** Takes one token; when none is left returns the time one will be there. */
  take(now = Date.now()): { ok: true } | { ok: false; until: number } {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.ratePerSecond);
    this.last = now;
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
    let bucket = this.buckets.get(key);
    if (!bucket) this.buckets.set(key, (bucket = new TokenBucket(this.ratePerSecond, this.burst, now)));
    return bucket.take(now);
  }

  sweep(now = Date.now()): void {
    for (const [key, bucket] of this.buckets) if (bucket.isFull(now)) this.buckets.delete(key);
  }
}
