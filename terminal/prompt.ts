/**
 * Node-only terminal helpers shared by the authority's tools (--create-admin, chandler-admin)
 * and the CLI: a no-echo prompt for passwords on a terminal; plain line reading otherwise (pipes, tests).
 * Piped lines come from one shared reader, so that two prompts in a row ("Password", "Again")
 * each get their own line even when both arrived in one chunk.
 */
import { stdin, stderr } from 'node:process';
import { createInterface, type Interface } from 'node:readline';

let piped: { rl: Interface; lines: string[]; waiting: ((line: string | null) => void)[]; ended: boolean } | null = null;

function nextPipedLine(): Promise<string | null> {
  if (!piped) {
    const state = { rl: createInterface({ input: stdin, terminal: false }), lines: [] as string[], waiting: [] as ((l: string | null) => void)[], ended: false };
    state.rl.on('line', (line) => {
      const w = state.waiting.shift();
      if (w) w(line);
      else state.lines.push(line);
    });
    state.rl.on('close', () => {
      state.ended = true;
      for (const w of state.waiting.splice(0)) w(null);
    });
    piped = state;
  }
  const p = piped;
  if (p.lines.length > 0) return Promise.resolve(p.lines.shift()!);
  if (p.ended) return Promise.resolve(null);
  return new Promise((resolve) => p.waiting.push(resolve));
}

/** Lets the process exit: stops reading piped input once no more prompts will come. */
export function releaseInput(): void {
  piped?.rl.close();
  piped = null;
}

export async function readSecret(question: string): Promise<string> {
  if (!stdin.isTTY) {
    stderr.write(question);
    const line = await nextPipedLine();
    stderr.write('\n');
    if (line === null) throw new Error('no input for the password prompt');
    return line;
  }
  return new Promise((resolve, reject) => {
    stderr.write(question);
    stdin.setRawMode(true);
    stdin.resume();
    let value = '';
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          done();
          resolve(value);
          return;
        }
        if (ch === '\u0003' || ch === '\u0004') {
          done();
          reject(new Error('cancelled'));
          return;
        }
        if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('');
        else if (ch >= ' ') value += ch;
      }
    };
    const done = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      stderr.write('\n');
    };
    stdin.on('data', onData);
  });
}
