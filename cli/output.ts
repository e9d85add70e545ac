/** How the CLI speaks: plain lines or JSON on stdout, `error CODE: message` on stderr. */
import { safeLine } from './text.js';

export class Output {
  constructor(readonly json: boolean) {}

  /** A command's result: `text` for people, `data` for --json. */
  result(text: string, data: unknown): void {
    process.stdout.write(this.json ? `${JSON.stringify(data)}\n` : `${text}\n`);
  }

  /** One live event (listen): always a JSON line. */
  event(data: unknown): void {
    process.stdout.write(`${JSON.stringify(data)}\n`);
  }

  error(code: string, message: string): void {
    process.stderr.write(`error ${code}: ${safeLine(message)}\n`);
  }

  note(text: string): void {
    process.stderr.write(`${text}\n`);
  }
}

/** Left-aligned columns. */
export function table(rows: string[][]): string {
  if (rows.length === 0) return '';
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => [...(r[i] ?? '')].length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}
