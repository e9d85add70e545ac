/**
 * The authority's log: one line per event, fields as key=value. Values from the network are
 * passed through `safe()` so that nothing raw (control characters, huge strings) reaches the log,
 * and message or DM content is never a field at all. Bidi controls (a room name, a ban reason)
 * become markers, as every client shows them (shared/display-text.ts).
 * The console swaps the sink so that log lines do not tear through what the admin is typing.
 */
import { neutraliseBidi } from '../../shared/display-text.js';

export type LogLevel = 'info' | 'warn' | 'error';
export type LogSink = (line: string, level: LogLevel) => void;

const MAX_FIELD_CHARS = 80;

export function safe(value: unknown): string {
  const s = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  // eslint-disable-next-line no-control-regex
  const clean = neutraliseBidi(s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '?'));
  return clean.length > MAX_FIELD_CHARS ? `${clean.slice(0, MAX_FIELD_CHARS)}…` : clean;
}

export class Logger {
  private sink: LogSink;

  constructor(private quiet = false) {
    this.sink = (line, level) => (level === 'info' ? process.stdout : process.stderr).write(`${line}\n`);
  }

  setSink(sink: LogSink): void {
    this.sink = sink;
  }

  setQuiet(quiet: boolean): void {
    this.quiet = quiet;
  }

  private write(level: LogLevel, event: string, fields: Record<string, unknown>): void {
    if (this.quiet && level === 'info') return;
    const parts = [new Date().toISOString(), level.toUpperCase(), event];
    for (const [k, v] of Object.entries(fields)) if (v !== undefined) parts.push(`${k}=${safe(v)}`);
    this.sink(parts.join(' '), level);
  }

  info(event: string, fields: Record<string, unknown> = {}): void {
    this.write('info', event, fields);
  }

  warn(event: string, fields: Record<string, unknown> = {}): void {
    this.write('warn', event, fields);
  }

  error(event: string, fields: Record<string, unknown> = {}): void {
    this.write('error', event, fields);
  }

  /** Lines that must always reach the operator (listening address, fingerprint). */
  announce(line: string): void {
    this.sink(line, 'info');
  }
}
