/**
 * Runs in a worker thread: scrypt, and the password estimator (10–25 ms a password), never block
 * the authority's event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { estimatedPasswordProblem, warmPasswordEstimator, type PasswordProblem } from './accounts-policy.js';

/**
 * Nice value of the hashing threads. Off the event loop is not enough on a small machine: a
 * login storm keeps every hashing thread busy, and at equal priority the kernel would share the
 * cores evenly between them and the event loop. At nice 10 a hashing thread weighs about a tenth
 * of an ordinary one: the event loop keeps most of a contended core, room traffic holds up in a
 * storm, logins wait longer. Not lower: at SCHED_IDLE or nice 19 hashing got 1–2 % of a core
 * whenever anything else (a backup, another service) kept the cores busy, and a single login
 * then took over 30 s (measured at load 8–12 on 2 cores): a server that no one can log into.
 */
const HASHING_NICE = 10;

/** Linux only (a thread's id from /proc); elsewhere, or when not allowed, the default priority. */
function lowerThisThreadsPriority(): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, HASHING_NICE);
  } catch {
    // not Linux, or not allowed: keep the default priority
  }
}
lowerThisThreadsPriority();

export type HashJob =
  | { id: number; op: 'hash'; password: string; N: number; r: number; p: number }
  | { id: number; op: 'verify'; password: string; stored: string }
  | { id: number; op: 'estimate'; password: string; minScore: number; username?: string };

/** A hash, a verdict, or the estimator's objection (null: none). */
export type JobValue = string | boolean | PasswordProblem | null;

export type HashReply = { id: number; ok: true; value: JobValue } | { id: number; ok: false; error: string };

/** What the pool tells a worker at its start. */
export interface PasswordWorkerData {
  entry: string;
  /** Load the estimator's dictionaries now (about a second), not at the first registration. */
  warmEstimator: boolean;
}

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

function run(job: HashJob): JobValue {
  switch (job.op) {
    case 'hash':
      return hash(job.password, job.N, job.r, job.p);
    case 'verify':
      return verify(job.password, job.stored);
    case 'estimate':
      return estimatedPasswordProblem(job.password, { passwordMinScore: job.minScore }, job.username);
  }
}

if ((workerData as PasswordWorkerData | null)?.warmEstimator) warmPasswordEstimator();

parentPort?.on('message', (job: HashJob) => {
  let reply: HashReply;
  try {
    const value = run(job);
    reply = { id: job.id, ok: true, value };
  } catch (err) {
    reply = { id: job.id, ok: false, error: (err as Error).message };
  }
  parentPort?.postMessage(reply);
});
