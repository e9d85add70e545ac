/**
 * A latency histogram in microseconds, log-linear (about 3 % precision), cheap to record into and
 * mergeable across processes (sent over IPC as its non-empty buckets).
 */
const SUB_BITS = 5;
const SUB = 1 << SUB_BITS; // 32 sub-buckets per power of two
const LINEAR = SUB * 2; // values below 64 µs are exact
const BUCKETS = 1024;
const MAX_US = 2 ** 31 - 1;

function indexOf(us: number): number {
  const v = us <= 0 ? 0 : us >= MAX_US ? MAX_US : Math.floor(us);
  if (v < LINEAR) return v;
  const shift = 31 - Math.clz32(v) - SUB_BITS;
  return shift * SUB + (v >>> shift);
}

/** The middle of a bucket's range. */
function valueOf(index: number): number {
  if (index < LINEAR) return index;
  const shift = Math.floor(index / SUB) - 1;
  const mant = (index % SUB) + SUB;
  return (mant << shift) + ((1 << shift) >>> 1);
}

export type HistogramData = [index: number, count: number][];

export class Histogram {
  private readonly counts = new Float64Array(BUCKETS);
  count = 0;
  max = 0;

  record(us: number): void {
    this.counts[indexOf(us)]!++;
    this.count++;
    if (us > this.max) this.max = us;
  }

  merge(data: HistogramData, max: number): void {
    for (const [i, n] of data) {
      this.counts[i]! += n;
      this.count += n;
    }
    if (max > this.max) this.max = max;
  }

  toData(): HistogramData {
    const out: HistogramData = [];
    for (let i = 0; i < BUCKETS; i++) if (this.counts[i]! > 0) out.push([i, this.counts[i]!]);
    return out;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.max = 0;
  }

  /** The value (µs) below which a fraction q of the samples fall; 0 when empty. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(valueOf(i), this.max);
    }
    return this.max;
  }

  summary(): LatencySummary {
    return {
      count: this.count,
      p50Ms: this.quantile(0.5) / 1000,
      p99Ms: this.quantile(0.99) / 1000,
      p999Ms: this.quantile(0.999) / 1000,
      maxMs: this.max / 1000,
    };
  }
}

export interface LatencySummary {
  count: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

export function serialize(h: Histogram): { data: HistogramData; max: number } {
  return { data: h.toData(), max: h.max };
}

/** Exact quantiles of a few thousand samples (µs, fractions kept): for work too short for the histogram's 1 µs floor. */
export interface SampleSummary {
  count: number;
  p50Us: number;
  p99Us: number;
  meanUs: number;
  maxUs: number;
}

export function summarize(samplesUs: readonly number[]): SampleSummary {
  const sorted = [...samplesUs].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? 0;
  const sum = sorted.reduce((s, x) => s + x, 0);
  return { count: sorted.length, p50Us: at(0.5), p99Us: at(0.99), meanUs: sorted.length ? sum / sorted.length : 0, maxUs: sorted.at(-1) ?? 0 };
}
