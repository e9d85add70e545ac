/**
 * A small pool of worker threads for the server half of OPAQUE (and scrypt, for the accounts
 * made before it): logins never stall message traffic. The pool keeps its own queue and hands a worker one job at a time, round
 * robin over callers. The queue is bounded and fair:
 * at most `maxJobs` jobs in flight or waiting, and at most `maxJobsPerKey` of them for one
 * caller (an address, a user); past either the job is refused at once with a retry time, so
 * one caller cannot make everyone else's login wait. /threads reads `stats()`.
 */
import { Worker } from 'node:worker_threads';
import type { HashJob, HashReply, JobValue, LoginStarted, PasswordWorkerData } from './password-worker.js';

const WORKER_ENTRY = new URL('./password-worker.ts', import.meta.url).href;
/** The worker is TypeScript: a small bootstrap loads it through tsx, whatever runner started us. */
const TS_WORKER = new URL('./ts-worker.mjs', import.meta.url);

/**
 * Jobs per worker, in flight plus waiting. Four: a login waits at most about four hash times
 * behind others (a few seconds on a loaded LAN server), while a burst of honest logins (a
 * team arriving at 9:00, each retried by its client) still fits.
 */
export const JOBS_PER_WORKER = 4;
/**
 * Jobs one caller may have in the pool at once. Two: a changePassword (verify, then hash) or a
 * user with two windows logging in at once never waits on itself.
 */
export const JOBS_PER_KEY = 2;
/** Until the pool has timed a job of a kind: what one is assumed to take, for the retry time. */
const FIRST_ESTIMATE_MS = 1000;

/** A job as the pool takes it: the worker's, less the id. */
type JobBody = HashJob extends infer J ? (J extends HashJob ? Omit<J, 'id'> : never) : never;
type Op = JobBody['op'];

interface Job {
  id: number;
  key: string;
  body: JobBody;
  resolve: (v: JobValue) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  job: Job | null;
  startedAt: number;
  done: number;
}

/** A job the pool took, or its refusal with the time to try again. */
export type PoolAnswer<T> = { ok: true; value: T } | { ok: false; busy: true; until: number };

export interface PoolStats {
  workers: { threadId: number; inFlight: number; done: number }[];
  queued: number;
  /** Jobs refused because the pool or the caller's share of it was full. */
  refused: number;
}

/** How long close() waits for a worker to end. */
const CLOSE_WAIT_MS = 5000;

export class PasswordPool {
  private readonly slots: Slot[] = [];
  private readonly waiting: Job[] = [];
  private readonly perKey = new Map<string, number>();
  /** When each caller with jobs in the pool last had one started (`started` at the time). */
  private readonly lastServed = new Map<string, number>();
  private started = 0;
  private nextId = 1;
  private closed = false;
  private refused = 0;
  /** How long a job of each kind takes (a moving average), for the retry time of a refusal. */
  private readonly opMs = new Map<Op, number>();
  private readonly maxJobs: number;

  constructor(
    size: number,
    private readonly params: { N: number; r: number; p: number },
    options: { jobsPerWorker?: number; jobsPerKey?: number } = {},
  ) {
    for (let i = 0; i < Math.max(1, size); i++) this.slots.push(this.spawn());
    this.maxJobs = this.slots.length * (options.jobsPerWorker ?? JOBS_PER_WORKER);
    this.maxJobsPerKey = options.jobsPerKey ?? JOBS_PER_KEY;
  }

  private readonly maxJobsPerKey: number;

  private spawn(): Slot {
    const data: PasswordWorkerData = { entry: WORKER_ENTRY };
    const worker = new Worker(TS_WORKER, { workerData: data });
    const slot: Slot = { worker, job: null, startedAt: 0, done: 0 };
    worker.on('message', (reply: HashReply) => {
      const job = slot.job;
      if (!job || job.id !== reply.id) return;
      slot.done++;
      const took = Date.now() - slot.startedAt;
      this.opMs.set(job.body.op, Math.max(1, Math.round(((this.opMs.get(job.body.op) ?? took) * 3 + took) / 4)));
      this.finish(slot);
      if (reply.ok) job.resolve(reply.value);
      else job.reject(new Error(reply.error));
    });
    worker.on('error', (err) => this.fail(slot, err));
    worker.on('exit', (code) => {
      this.fail(slot, new Error(`password worker exited with ${code}`));
      if (!this.closed) {
        this.slots[this.slots.indexOf(slot)] = this.spawn();
        this.pump();
      }
    });
    worker.unref(); // an idle pool never keeps the process alive; a job in flight does
    return slot;
  }

  private release(key: string): void {
    const n = (this.perKey.get(key) ?? 1) - 1;
    if (n > 0) this.perKey.set(key, n);
    else {
      this.perKey.delete(key);
      this.lastServed.delete(key);
    }
  }

  private finish(slot: Slot): void {
    const job = slot.job;
    slot.job = null;
    slot.worker.unref();
    if (job) this.release(job.key);
    this.pump();
  }

  private fail(slot: Slot, err: Error): void {
    const job = slot.job;
    if (!job) return;
    slot.job = null;
    this.release(job.key);
    job.reject(err);
  }

  /**
   * Hands waiting jobs to idle workers, round robin over callers: a stranger's login waits behind
   * the job a caller has running, not behind every job that caller keeps queued.
   */
  private pump(): void {
    if (this.closed) return;
    for (const slot of this.slots) {
      if (slot.job) continue;
      const job = this.nextJob();
      if (!job) return;
      slot.job = job;
      slot.startedAt = Date.now();
      slot.worker.ref();
      slot.worker.postMessage({ id: job.id, ...job.body } satisfies HashJob);
    }
  }

  /** The waiting job of the caller served longest ago (never: first), the oldest of theirs. */
  private nextJob(): Job | undefined {
    let best = -1;
    let bestServed = Infinity;
    for (let i = 0; i < this.waiting.length && bestServed >= 0; i++) {
      const served = this.lastServed.get(this.waiting[i]!.key) ?? -1;
      if (served < bestServed) {
        best = i;
        bestServed = served;
      }
    }
    if (best < 0) return undefined;
    const [job] = this.waiting.splice(best, 1);
    this.lastServed.set(job!.key, this.started++);
    return job;
  }

  private get size(): number {
    return this.waiting.length + this.slots.filter((s) => s.job).length;
  }

  private msOf(op: Op): number {
    return this.opMs.get(op) ?? FIRST_ESTIMATE_MS;
  }

  /** When a job of `op` refused now could start: the work ahead of it, spread over the workers. */
  private retryAt(op: Op): number {
    let ahead = this.msOf(op);
    for (const job of this.waiting) ahead += this.msOf(job.body.op);
    for (const slot of this.slots) if (slot.job) ahead += this.msOf(slot.job.body.op);
    return Date.now() + Math.ceil(ahead / this.slots.length);
  }

  private enqueue(key: string, body: JobBody): Promise<JobValue> {
    if (this.closed) return Promise.reject(new Error('password pool closed'));
    return new Promise((resolve, reject) => {
      this.perKey.set(key, (this.perKey.get(key) ?? 0) + 1);
      this.waiting.push({ id: this.nextId++, key, body, resolve, reject });
      this.pump();
    });
  }

  /** The job runs when the pool and the caller's share have room; otherwise BUSY with a retry time, at once. */
  private async run(key: string, body: JobBody): Promise<PoolAnswer<JobValue>> {
    if (this.size >= this.maxJobs || (this.perKey.get(key) ?? 0) >= this.maxJobsPerKey) {
      this.refused++;
      return { ok: false, busy: true, until: this.retryAt(body.op) };
    }
    return { ok: true, value: await this.enqueue(key, body) };
  }

  /** Hashes a new password; `key` names the caller (an address, a user) for fairness. */
  async hash(password: string, key: string): Promise<PoolAnswer<string>> {
    const r = await this.run(key, { op: 'hash', password, ...this.params });
    return r.ok ? { ok: true, value: String(r.value) } : r;
  }

  /** Checks a password against an account's scrypt hash (made before OPAQUE: its migration). */
  async verify(password: string, stored: string, key: string): Promise<PoolAnswer<boolean>> {
    const r = await this.run(key, { op: 'verify', password, stored });
    return r.ok ? { ok: true, value: r.value === true } : r;
  }

  /** The registration response for `registrationRequest`, or null when it does not parse. */
  async opaqueRegistration(
    serverSetup: string,
    userIdentifier: string,
    registrationRequest: string,
    key: string,
  ): Promise<PoolAnswer<string | null>> {
    const r = await this.run(key, { op: 'opaqueRegistration', serverSetup, userIdentifier, registrationRequest });
    return r.ok ? { ok: true, value: typeof r.value === 'string' ? r.value : null } : r;
  }

  /**
   * A login's first step; with no record (an unknown name) the answer is a fake of the same size
   * and work, so it says nothing. Null when the request does not parse.
   */
  async opaqueLoginStart(
    serverSetup: string,
    userIdentifier: string,
    registrationRecord: string | null,
    startLoginRequest: string,
    key: string,
  ): Promise<PoolAnswer<LoginStarted | null>> {
    const r = await this.run(key, { op: 'opaqueLoginStart', serverSetup, userIdentifier, registrationRecord, startLoginRequest });
    return r.ok ? { ok: true, value: (r.value as LoginStarted | null) ?? null } : r;
  }

  /** True when the client's finish proves it knew the password (the record's). */
  async opaqueLoginFinish(serverLoginState: string, finishLoginRequest: string, key: string): Promise<PoolAnswer<boolean>> {
    const r = await this.run(key, { op: 'opaqueLoginFinish', serverLoginState, finishLoginRequest });
    return r.ok ? { ok: true, value: r.value === true } : r;
  }

  stats(): PoolStats {
    const workers = this.slots.map((s) => ({ threadId: s.worker.threadId, inFlight: s.job ? 1 : 0, done: s.done }));
    return { workers, queued: this.waiting.length, refused: this.refused };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const job of this.waiting.splice(0)) job.reject(new Error('password pool closed'));
    // A ref'd timer holds the event loop up until each worker is gone: the workers are unref'd,
    // and when nothing else is left (a command-line tool closing its pool) Node would otherwise
    // end the process before terminate() settles, and `await close()` would never come back.
    await Promise.all(
      this.slots.map(
        (s) =>
          new Promise<void>((resolve) => {
            const holdOn = setTimeout(resolve, CLOSE_WAIT_MS);
            void s.worker.terminate().finally(() => {
              clearTimeout(holdOn);
              resolve();
            });
          }),
      ),
    );
  }
}
