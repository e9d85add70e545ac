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
