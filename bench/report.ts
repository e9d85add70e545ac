/** Figures, the printed table, the JSON file, and the last line that sums up the ratios. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Figure {
  id: string;
  label: string;
  unit: string;
  ours: number | null;
  baseline: number | null;
  /**
   * What the baseline column holds when it is not the bare ws server (the same authority before
   * a change, say): shown beside it, and the ratio is left out of the geometric mean.
   */
  baselineIs?: string;
  /** Which way is good: a throughput goes up, a latency or a memory cost goes down. */
  better: 'higher' | 'lower';
  target: string;
  /** null: not measured (see note). */
  met: boolean | null;
  note?: string;
  detail?: unknown;
}

/** ours / baseline, the raw ratio. */
export function ratio(f: Figure): number | null {
  if (f.ours === null || f.baseline === null || f.baseline === 0) return null;
  return f.ours / f.baseline;
}

/** Oriented so that > 1 means better than the baseline. */
function goodness(f: Figure): number | null {
  const r = ratio(f);
  if (r === null || r <= 0) return null; // a ratio only means something between two positive figures
  return f.better === 'higher' ? r : 1 / r;
}

function fmt(v: number | null, unit: string): string {
  if (v === null) return '—';
  const digits = Math.abs(v) >= 1000 ? 0 : Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2;
  const n = Math.abs(v) >= 1e6 ? `${(v / 1e6).toFixed(2)}M` : Math.abs(v) >= 1e4 ? `${(v / 1e3).toFixed(1)}k` : v.toFixed(digits);
  return `${n} ${unit}`.trim();
}

export function table(figures: Figure[]): string {
  const rows = [['figure', 'ours', 'baseline', 'ratio', 'target', 'met']];
  for (const f of figures) {
    const r = ratio(f);
    rows.push([
      f.label,
      fmt(f.ours, f.unit),
      f.baselineIs && f.baseline !== null ? `${fmt(f.baseline, f.unit)} (${f.baselineIs})` : fmt(f.baseline, f.unit),
      r === null ? '—' : `${r.toFixed(2)}×`,
      f.target,
      f.met === null ? `not measured${f.note ? `: ${f.note}` : ''}` : f.met ? 'yes' : 'NO',
    ]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join(' | ');
  const notes = figures.filter((f) => f.note && f.met !== null).map((f) => `  ${f.id}: ${f.note}`);
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.slice(1).map(line), ...(notes.length ? ['notes:', ...notes] : [])].join('\n');
}

/** One line: every ratio to the baseline, their geometric mean (oriented), and targets met. */
export function summary(figures: Figure[]): string {
  const parts: string[] = [];
  const others: string[] = [];
  const good: number[] = [];
  for (const f of figures) {
    const r = ratio(f);
    if (r !== null && f.baselineIs) others.push(`${f.id} ${r.toFixed(2)}× (to ${f.baselineIs})`);
    if (f.baselineIs) continue;
    const g = goodness(f);
    if (r !== null) parts.push(`${f.id} ${r.toFixed(2)}×`);
    if (g !== null) good.push(g);
  }
  const gmean = good.length ? Math.exp(good.reduce((s, g) => s + Math.log(g), 0) / good.length) : null;
  const measured = figures.filter((f) => f.met !== null);
  const met = measured.filter((f) => f.met).length;
  return (
    `ratios to the in-run baseline: ${parts.join(', ') || '—'}; ` +
    `geometric mean ${gmean === null ? '—' : `${gmean.toFixed(2)}×`} (oriented, > 1 is better than the baseline); ` +
    `targets met ${met}/${measured.length}` +
    (measured.length < figures.length ? ` (${figures.length - measured.length} not measured)` : '') +
    (others.length ? `; other ratios: ${others.join(', ')}` : '')
  );
}

export function writeResults(dir: string, body: unknown): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(body, null, 2)}\n`);
  return file;
}
