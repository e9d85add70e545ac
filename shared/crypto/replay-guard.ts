/**
 * Remembers which DM ids each conversation has accepted, so a relayed or captured
 * envelope cannot be delivered twice. Memory is bounded: per conversation it keeps
 * the last `maxIds` ids, refuses anything older than `maxAgeMs` (STALE) and, once it
 * has forgotten ids, anything not newer than the newest forgotten one — it fails closed.
 */

export const REPLAY_DEFAULTS = {
  /** Ids remembered per conversation. */
  maxIds: 10_000,
  /** Oldest message accepted, by its sender's timestamp. */
  maxAgeMs: 30 * 24 * 60 * 60 * 1000,
  /** How far ahead a sender's clock may run (LAN machines are not always NTP-synced). */
  maxFutureSkewMs: 60 * 60 * 1000,
} as const;

export type ReplayGuardOptions = { [K in keyof typeof REPLAY_DEFAULTS]?: number } & {
  /** The clock, injectable for tests. */
  now?: () => number;
};

export type ReplayVerdict = 'REPLAYED' | 'STALE' | null;

type Seen = {
  /** id → sender timestamp, in acceptance order. */
  ids: Map<string, number>;
  /** Every forgotten id had a timestamp ≤ floor. */
  floor: number;
};

export class ReplayGuard {
  readonly #maxIds: number;
  readonly #maxAgeMs: number;
  readonly #maxFutureSkewMs: number;
  readonly #now: () => number;
  readonly #windows = new Map<string, Seen>();

  constructor(options: ReplayGuardOptions = {}) {
    this.#maxIds = options.maxIds ?? REPLAY_DEFAULTS.maxIds;
    this.#maxAgeMs = options.maxAgeMs ?? REPLAY_DEFAULTS.maxAgeMs;
    this.#maxFutureSkewMs = options.maxFutureSkewMs ?? REPLAY_DEFAULTS.maxFutureSkewMs;
    this.#now = options.now ?? Date.now;
    if (!(this.#maxIds >= 1)) throw new RangeError('maxIds must be at least 1');
  }

  /** Without recording anything: would this message be refused, and why? */
  check(conversation: string, id: string, ts: number): ReplayVerdict {
    const now = this.#now();
    if (!Number.isFinite(ts) || ts < now - this.#maxAgeMs || ts > now + this.#maxFutureSkewMs) return 'STALE';
    const seen = this.#windows.get(conversation);
    if (!seen) return null;
    if (seen.ids.has(id)) return 'REPLAYED';
    if (ts <= seen.floor) return 'STALE';
    return null;
  }

  /** Checks, and records the id when the message is admitted. */
  admit(conversation: string, id: string, ts: number): ReplayVerdict {
    const verdict = this.check(conversation, id, ts);
    if (verdict === null) this.#record(conversation, id, ts);
    return verdict;
  }

  /** Forgets a conversation (friendship removed, key changed). */
  forget(conversation: string): void {
    this.#windows.delete(conversation);
  }

  #record(conversation: string, id: string, ts: number): void {
    let seen = this.#windows.get(conversation);
    if (!seen) {
      seen = { ids: new Map(), floor: -Infinity };
      this.#windows.set(conversation, seen);
    }
    seen.ids.set(id, ts);
    for (const [oldId, oldTs] of seen.ids) {
      if (seen.ids.size <= this.#maxIds) break;
      seen.ids.delete(oldId);
      seen.floor = Math.max(seen.floor, oldTs);
    }
  }
}
