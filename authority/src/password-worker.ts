/** Runs in a worker thread: scrypt never blocks the authority's event loop. */
import { parentPort } from 'node:worker_threads';
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { constants, setPriority } from 'node:os';

/**
 * Off the event loop is not enough on a small machine: a login storm keeps every hashing thread
 * busy, and the kernel would share the cores evenly between them and the event loop. So hashing
 * runs at the lowest priority: it gets the CPU time that the event loop (and everything else)
 * leaves; logins wait longer in a storm, room traffic does not.
 * On Linux the thread goes to SCHED_IDLE, with util-linux's chrt (Node has no call for it):
 * any ordinary thread that wakes up takes the core from it at once, where a nice 19 thread may
 * still finish its time slice first. Without chrt, nice 19; elsewhere, the default priority.
 */
function lowerThisThreadsPriority(): void {
  let tid: number;
  try {
    tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid) || tid <= 0) return;
    setPriority(tid, constants.priority.PRIORITY_LOW);
  } catch {
    return; // not Linux, or not allowed: keep the default priority
  }
  try {
    spawnSync('chrt', ['--idle', '-p', '0', String(tid)], { stdio: 'ignore', timeout: 2000 });
  } catch {
    // no chrt: nice 19 it is
  }
}
lowerThisThreadsPriority();

export type HashJob =
  | { id: number; op: 'hash'; password: string; N: number; r: number; p: number }
  | { id: number; op: 'verify'; password: string; stored: string };

export type HashReply = { id: number; ok: true; value: string | boolean } | { id: number; ok: false; error: string };

const KEY_LEN = 32;
const SALT_LEN = 16;

function maxmem(N: number, r: number): number {
  return 128 * N * r * 2;
}

function hash(password: string, N: number, r: number, p: number): string {
  const salt = randomBytes(SALT_LEN);
  const key = scryptSync(password.normalize('NFC'), salt, KEY_LEN, { N, r, p, maxmem: maxmem(N, r) });
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

function verify(password: string, stored: string): boolean {
  const [scheme, n, r, p, salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || !n || !r || !p || !salt || !key) return false;
  const expected = Buffer.from(key, 'base64');
  const N = Number(n);
  const R = Number(r);
  const actual = scryptSync(password.normalize('NFC'), Buffer.from(salt, 'base64'), expected.length, {
    N,
    r: R,
    p: Number(p),
    maxmem: maxmem(N, R),
  });
  return timingSafeEqual(actual, expected);
}

parentPort?.on('message', (job: HashJob) => {
  let reply: HashReply;
  try {
    const value = job.op === 'hash' ? hash(job.password, job.N, job.r, job.p) : verify(job.password, job.stored);
    reply = { id: job.id, ok: true, value };
  } catch (err) {
    reply = { id: job.id, ok: false, error: (err as Error).message };
  }
  parentPort?.postMessage(reply);
});
