/** Real processes for tests: the authority as `npm start` runs it, and the CLI. */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { PROCESS_MS } from './timing.js';

export const ROOT = resolve(import.meta.dirname, '..', '..');

/** node --import tsx: one process (no npm/npx wrapper), so that its PID is the server's. */
export function tsxArgs(script: string, args: string[]): string[] {
  return ['--import', 'tsx', resolve(ROOT, script), ...args];
}

export interface SpawnedAuthority {
  proc: ChildProcess;
  url: string;
  port: number;
  fingerprint: string;
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts `authority/src/main.ts` and waits (up to PROCESS_MS: a cold tsx start under load) for its listening and fingerprint lines. */
export async function spawnAuthority(args: string[], env: NodeJS.ProcessEnv = {}, nodeArgs: string[] = []): Promise<SpawnedAuthority> {
  const proc = spawn(process.execPath, [...nodeArgs, ...tsxArgs('authority/src/main.ts', args)], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const start = Date.now();
  for (;;) {
    const listen = /listening on (wss?):\/\/([^\s]+):(\d+)/.exec(out);
    const fp = /fingerprint \(SHA-256\): ([0-9A-F:]{95})/.exec(out);
    if (listen && (fp || listen[1] === 'ws')) {
      const port = Number(listen[3]);
      return {
        proc,
        port,
        url: `${listen[1]}://127.0.0.1:${port}/ws`,
        fingerprint: fp?.[1] ?? '',
        output: () => out,
        exited,
      };
    }
    if (proc.exitCode !== null || Date.now() - start > PROCESS_MS) {
      proc.kill('SIGKILL');
      throw new Error(`authority did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a tsx script to its end; killed only if it hangs past `timeoutMs` (a cold start under load takes 5–15 s). */
export function run(script: string, args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 2 * PROCESS_MS): Promise<RunResult> {
  return new Promise((resolvePromise) => {
    const proc = spawn(process.execPath, tsxArgs(script, args), {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => (stdout += d));
    proc.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}
