/**
 * How the CLI speaks: plain lines or JSON on stdout, `error CODE: message` on stderr. Everything
 * written goes through safeLine or safeJson: names and texts from the network are in it.
 */
import { safeJson, safeLine } from './text.js';

export class Output {
  constructor(readonly json: boolean) {}

  /** A command's result: `text` for people, `data` for --json. */
  result(text: string, data: unknown): void {
    process.stdout.write(this.json ? `${safeJson(data)}\n` : `${safeLine(text)}\n`);
  }

  /** One live event (listen): always a JSON line. */
  event(data: unknown): void {
    process.stdout.write(`${safeJson(data)}\n`);
  }

  error(code: string, message: string): void {
    process.stderr.write(`error ${code}: ${safeLine(message)}\n`);
  }

  note(text: string): void {
    process.stderr.write(`${safeLine(text)}\n`);
  }
}

/** Left-aligned columns. */
export function table(rows: string[][]): string {
  if (rows.length === 0) return '';
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => [...(r[i] ?? '')].length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}
