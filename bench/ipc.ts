/**
 * Request/reply over a child process's IPC channel, and the parent's registry of the children
 * it started (each stopped by its own PID, and each child exits when its parent goes away).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

interface Call {
  rid: number;
  cmd: string;
  body: unknown;
}

interface Reply {
  rid: number;
  ok: boolean;
  body?: unknown;
  error?: string;
}

type HandlerMap = Record<string, (body: never) => unknown>;

/** Child side: answers the parent's calls; exits when the parent disconnects. */
export function serve(handlers: HandlerMap): void {
  if (!process.send) throw new Error('this module runs as a child of bench/run.ts');
  process.on('disconnect', () => process.exit(0));
  process.on('message', (raw: unknown) => {
    const call = raw as Call;
    const handler = handlers[call.cmd];
    const answer = (r: Reply) => process.send?.(r);
    if (!handler) return answer({ rid: call.rid, ok: false, error: `unknown command ${call.cmd}` });
    Promise.resolve()
      .then(() => handler(call.body as never))
      .then(
        (body) => answer({ rid: call.rid, ok: true, body }),
        (err: unknown) => answer({ rid: call.rid, ok: false, error: (err as Error)?.stack ?? String(err) }),
      );
  });
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function killAll(): void {
  for (const c of live) if (c.pid !== undefined && c.exitCode === null) process.kill(c.pid, 'SIGKILL');
}

/** Parent side: a TypeScript child (through tsx) with an IPC channel. */
export class Child {
  readonly proc: ChildProcess;
  private nextRid = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  readonly exited: Promise<number | null>;

  constructor(entry: string, args: string[] = [], execArgv: string[] = []) {
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.on('exit', killAll);
    }
    this.proc = spawn(process.execPath, [...execArgv, '--import', 'tsx', entry, ...args], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    live.add(this.proc);
    this.exited = new Promise((resolve) =>
      this.proc.once('exit', (code) => {
        live.delete(this.proc);
        for (const w of this.waiting.values()) w.reject(new Error(`${entry} exited (${code}) during a call`));
        this.waiting.clear();
        resolve(code);
      }),
    );
    this.proc.on('message', (raw: unknown) => {
      const r = raw as Reply;
      const w = this.waiting.get(r.rid);
      if (!w) return;
      this.waiting.delete(r.rid);
      if (r.ok) w.resolve(r.body);
      else w.reject(new Error(r.error));
    });
  }

  get pid(): number {
    if (this.proc.pid === undefined) throw new Error('child did not start');
    return this.proc.pid;
  }

  call<T>(cmd: string, body: unknown = {}, timeoutMs = 120_000): Promise<T> {
    const rid = this.nextRid++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(rid);
        reject(new Error(`${cmd} got no answer in ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(rid, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.proc.send({ rid, cmd, body } satisfies Call);
    });
  }

  /** Asks the child to stop, then cuts it (by its PID) if it has not exited in time. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}
