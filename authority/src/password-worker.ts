/**
 * Runs in a worker thread: the server half of OPAQUE (a few ms of WebAssembly per step), and
 * scrypt for the accounts made before it: neither blocks the authority's event loop.
 */
import * as opaque from '@serenity-kit/opaque';
import { parentPort } from 'node:worker_threads';
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

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
  | { id: number; op: 'opaqueRegistration'; serverSetup: string; userIdentifier: string; registrationRequest: string }
  | {
      id: number;
      op: 'opaqueLoginStart';
      serverSetup: string;
      userIdentifier: string;
      registrationRecord: string | null;
      startLoginRequest: string;
    }
  | { id: number; op: 'opaqueLoginFinish'; serverLoginState: string; finishLoginRequest: string };

/** The server's half-way state of a login and the response for the client. */
export interface LoginStarted {
  serverLoginState: string;
  loginResponse: string;
}

/**
 * A hash, a verdict, or an OPAQUE step's answer: a registration response, a LoginStarted, a
 * login's verdict; null for an OPAQUE message that does not parse.
 */
export type JobValue = string | boolean | LoginStarted | null;

export type HashReply = { id: number; ok: true; value: JobValue } | { id: number; ok: false; error: string };

/** What the pool tells a worker at its start. */
export interface PasswordWorkerData {
  entry: string;
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

/** The library throws on a message that does not decode or verify: that is an answer (null / false), not a fault. */
function orInvalid<T>(step: () => T, invalid: T | null = null): T | null {
  try {
    return step();
  } catch {
    return invalid;
  }
}

function run(job: HashJob): JobValue {
  switch (job.op) {
    case 'opaqueRegistration':
      return orInvalid(() => {
        const { serverSetup, userIdentifier, registrationRequest } = job;
        return opaque.server.createRegistrationResponse({ serverSetup, userIdentifier, registrationRequest }).registrationResponse;
      });
    case 'opaqueLoginStart':
      return orInvalid(() => {
        const { serverSetup, userIdentifier, registrationRecord, startLoginRequest } = job;
        const { serverLoginState, loginResponse } = opaque.server.startLogin({ serverSetup, userIdentifier, registrationRecord, startLoginRequest });
        return { serverLoginState, loginResponse };
      });
    case 'opaqueLoginFinish':
      return orInvalid(() => {
        opaque.server.finishLogin({ serverLoginState: job.serverLoginState, finishLoginRequest: job.finishLoginRequest });
        return true;
      }, false);
    case 'hash':
      return hash(job.password, job.N, job.r, job.p);
    case 'verify':
      return verify(job.password, job.stored);
  }
}

await opaque.ready;
// The first OPAQUE step compiles the library's code paths (~15 ms): done now, not in a login.
{
  const serverSetup = opaque.server.createSetup();
  const { startLoginRequest } = opaque.client.startLogin({ password: 'warm-up' });
  opaque.server.startLogin({ serverSetup, userIdentifier: 'warm-up', registrationRecord: null, startLoginRequest });
}

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
