/** A process's CPU time and resident memory, read from /proc (Linux). */
import { readFileSync } from 'node:fs';

/** Kernel clock ticks per second for /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const CLOCK_TICKS = 100;

export interface ProcSample {
  /** user + system CPU seconds of every thread of the process. */
  cpuSeconds: number;
  rssBytes: number;
  /** Monotonic wall time of the sample (ms). */
  atMs: number;
}

export function sampleProc(pid: number): ProcSample {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces: count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rss = /VmRSS:\s+(\d+) kB/.exec(status);
  return {
    cpuSeconds: (utime + stime) / CLOCK_TICKS,
    rssBytes: rss ? Number(rss[1]) * 1024 : 0,
    atMs: performance.now(),
  };
}

/** CPU use between two samples, as a percentage of one core. */
export function cpuPercent(a: ProcSample, b: ProcSample): number {
  const wall = (b.atMs - a.atMs) / 1000;
  return wall > 0 ? ((b.cpuSeconds - a.cpuSeconds) / wall) * 100 : 0;
}

/** Busy and total jiffies of the whole machine (every core), from /proc/stat. */
export function sampleMachine(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  const total = v.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/** Machine-wide CPU use between two samples, in cores. */
export function machineCores(a: { busy: number; total: number }, b: { busy: number; total: number }, cores: number): number {
  const total = b.total - a.total;
  return total > 0 ? ((b.busy - a.busy) / total) * cores : 0;
}

/**
 * Share of the last 10 s during which some runnable task waited for a CPU (Linux PSI), in
 * percent: how much the benchmark is competing with everything else on the machine. Null when
 * the kernel does not report it.
 */
export function cpuPressure(): number | null {
  try {
    const m = /some avg10=([\d.]+)/.exec(readFileSync('/proc/pressure/cpu', 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}
