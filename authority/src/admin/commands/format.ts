/** Text for the admin's terminal: aligned tables, times, sizes, and cells that cannot inject escapes. */
import { neutraliseBidi } from '../../../../shared/display-text.js';

const MAX_CELL_CHARS = 60;

/**
 * One table cell: control and invisible characters (terminal escapes from a client's version
 * string…) become '?', bidi controls their marker (shared/display-text.ts, as every client shows them).
 */
export function cell(value: unknown, max = MAX_CELL_CHARS): string {
  const s = value === null || value === undefined ? '' : String(value);
  // eslint-disable-next-line no-control-regex
  const clean = neutraliseBidi(s.replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028\u2029\u2060-\u2064\ufeff]/g, '?'));
  const chars = [...clean];
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : clean;
}

function width(s: string): number {
  return [...s].length;
}

/** Columns padded to their widest cell; the last column is not padded. */
export function table(headers: string[], rows: unknown[][], maxCell = MAX_CELL_CHARS): string {
  const cells = rows.map((r) => r.map((v) => cell(v, maxCell)));
  const widths = headers.map((h, i) => Math.max(width(h), ...cells.map((r) => width(r[i] ?? ''))));
  const line = (r: string[]) =>
    r
      .map((v, i) => (i === r.length - 1 ? v : v + ' '.repeat(widths[i]! - width(v))))
      .join('  ')
      .trimEnd();
  return [line(headers), ...cells.map(line)].join('\n');
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** Local wall-clock time, the way the admin's own clock reads. */
export function localTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** "42 s", "3 min", "2 h 05", "3 d 4 h". */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h ${pad2(m % 60)}`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
