/**
 * Event-loop health for /threads: delay (how late timers fire: what every message waits on top
 * of its own work) and utilisation (the share of time the loop was busy). The event loop is
 * the process's, so one monitor serves the whole process.
 */
import { monitorEventLoopDelay, performance, type EventLoopUtilization, type IntervalHistogram } from 'node:perf_hooks';

/** Sampling period of the delay histogram (ms). */
const RESOLUTION_MS = 10;
const NS_PER_MS = 1e6;

export interface LoopSample {
  /** Length of the window these figures cover (ms). */
  windowMs: number;
  lagMeanMs: number;
  lagP99Ms: number;
  lagMaxMs: number;
  /** 0..1 over the window, and since the process started. */
  utilisation: number;
  utilisationSinceStart: number;
}

export class LoopMonitor {
  private readonly histogram: IntervalHistogram;
  private lastElu: EventLoopUtilization;
  private lastAt = performance.now();

  constructor() {
    this.histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    this.histogram.enable();
    this.lastElu = performance.eventLoopUtilization();
  }

  /** Figures since the previous sample (or since the monitor started), then a new window begins. */
  sample(): LoopSample {
    const h = this.histogram;
    const now = performance.now();
    const elu = performance.eventLoopUtilization();
    const window = performance.eventLoopUtilization(elu, this.lastElu);
    // The histogram counts the sampling period itself: subtract it to get the lag.
    const lag = (ns: number) => (Number.isFinite(ns) && h.count > 0 ? Math.max(0, ns / NS_PER_MS - RESOLUTION_MS) : 0);
    const out: LoopSample = {
      windowMs: now - this.lastAt,
      lagMeanMs: lag(h.mean),
      lagP99Ms: lag(h.percentile(99)),
      lagMaxMs: lag(h.max),
      utilisation: window.utilization,
      utilisationSinceStart: elu.utilization,
    };
    h.reset();
    this.lastElu = elu;
    this.lastAt = now;
    return out;
  }

  close(): void {
    this.histogram.disable();
  }
}

let shared: LoopMonitor | null = null;

export function loopMonitor(): LoopMonitor {
  shared ??= new LoopMonitor();
  return shared;
}
