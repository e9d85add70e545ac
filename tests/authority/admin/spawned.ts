/**
 * The real authority as an admin runs it: its own process (`main.ts --console`) with stdin and
 * stdout piped, plus chandler-admin runs against its control socket. Every process is ended
 * by its own pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../../helpers/authority.js';
import { LOADED_MS, PROCESS_MS } from '../../helpers/timing.js';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const MAIN = join(REPO, 'authority/src/main.ts');
const ADMIN_CLI = join(REPO, 'authority/src/admin/cli.ts');
/** A cold tsx start under load, then the authority's own start (real scrypt workers, TLS). */
const START_TIMEOUT_MS = PROCESS_MS + LOADED_MS;
/** A console answer may wait for real scrypt on a loaded machine (/change_password). */
const WAIT_TIMEOUT_MS = LOADED_MS;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface SpawnedAuthority {
  proc: ChildProcess;
  url: string;
  fingerprint: string;
  dataDir: string;
  /** Resolves with the exit code once the process is gone. */
  exited: Promise<number | null>;
  /** Everything printed on stdout so far. */
  output(): string;
  /** Everything printed on stderr so far (warnings logged before the console takes the log). */
  errors(): string;
  /** Types a line at the console and waits until the output after it matches. */
  command(line: string, expect: RegExp): Promise<string>;
  /** Writes raw lines to the console's stdin (answers to prompts). */
  type(text: string): void;
  /** Waits until the output printed since `from` matches. */
  waitFor(expect: RegExp, from?: number): Promise<string>;
  /** chandler-admin against this authority's data dir. */
  admin(args: string[], input?: string): Promise<CliResult>;
  /** Ends the process (by pid) if still running, and removes the data dir. */
  cleanup(): Promise<void>;
}

function tsx(args: string[], opts: { input?: string } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: REPO, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdin.end(opts.input ?? '');
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export function runAdminCli(args: string[], input?: string): Promise<CliResult> {
  return tsx([ADMIN_CLI, ...args], { input });
}

export async function spawnAuthority(options: { dataDir?: string; extraArgs?: string[] } = {}): Promise<SpawnedAuthority> {
  const dataDir = options.dataDir ?? tempDir('chandler-admin-');
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', MAIN, '--port', '0', '--host', '127.0.0.1', '--data', dataDir, '--console', ...(options.extraArgs ?? [])],
    { cwd: REPO, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  let running = true;
  void exited.then(() => (running = false));

  const waitFor = async (expect: RegExp, from = 0, timeoutMs = WAIT_TIMEOUT_MS): Promise<string> => {
    const start = Date.now();
    for (;;) {
      const seen = out.slice(from);
      if (expect.test(seen)) return seen;
      if (!running) throw new Error(`authority exited while waiting for ${expect}:\n${seen}\nstderr:\n${err}`);
      if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${expect}; output was:\n${seen}\nstderr:\n${err}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  const banner = await waitFor(/admin console ready/, 0, START_TIMEOUT_MS);
  const url = /listening on (wss:\/\/\S+)/.exec(banner)?.[1];
  const fingerprint = /certificate fingerprint \(SHA-256\): (\S+)/.exec(banner)?.[1];
  if (!url || !fingerprint) throw new Error(`no address or fingerprint in:\n${banner}`);

  return {
    proc,
    url: `${url}/ws`,
    fingerprint,
    dataDir,
    exited,
    output: () => out,
    errors: () => err,
    type: (text) => proc.stdin!.write(text),
    waitFor,
    command: async (line, expect) => {
      const from = out.length;
      proc.stdin!.write(`${line}\n`);
      return waitFor(expect, from);
    },
    admin: (args, input) => runAdminCli([...args, '--data', dataDir], input),
    cleanup: async () => {
      if (running && proc.pid) {
        process.kill(proc.pid, 'SIGKILL');
        await exited;
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A data dir that other accounts may traverse, so that only the socket's own mode protects it. */
export function openDataDir(): string {
  const dir = tempDir('chandler-admin-');
  chmodSync(dir, 0o755);
  return dir;
}
