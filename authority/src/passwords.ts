/**
 * A small pool of worker threads for scrypt, with a queue: logins never stall message
 * traffic. Each job goes to the least-busy worker; /threads reads `stats()`.
 */
import { Worker } from 'node:worker_threads';
import type { HashJob, HashReply } from './password-worker.js';

const WORKER_ENTRY = new URL('./password-worker.ts', import.meta.url).href;
/** The worker is TypeScript: a small bootstrap loads it through tsx, whatever runner started us. */
const TS_WORKER = new URL('./ts-worker.mjs', import.meta.url);

interface Pending {
  resolve: (v: string | boolean) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  inFlight: Map<number, Pending>;
  done: number;
}

type JobBody = { op: 'hash'; password: string; N: number; r: number; p: number } | { op: 'verify'; password: string; stored: string };

export interface PoolStats {
  workers: { threadId: number; inFlight: number; done: number }[];
  queued: number;
}

export class PasswordPool {
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private closed = false;

  constructor(
    size: number,
    private readonly params: { N: number; r: number; p: number },
  ) {
    for (let i = 0; i < Math.max(1, size); i++) this.slots.push(this.spawn());
  }

  private spawn(): Slot {
    const worker = new Worker(TS_WORKER, { workerData: { entry: WORKER_ENTRY } });
    const slot: Slot = { worker, inFlight: new Map(), done: 0 };
    worker.on('message', (reply: HashReply) => {
      const p = slot.inFlight.get(reply.id);
      if (!p) return;
      slot.inFlight.delete(reply.id);
      if (slot.inFlight.size === 0) worker.unref();
      slot.done++;
      if (reply.ok) p.resolve(reply.value);
      else p.reject(new Error(reply.error));
    });
    worker.on('error', (err) => this.fail(slot, err));
    worker.on('exit', (code) => {
      this.fail(slot, new Error(`password worker exited with ${code}`));
      if (!this.closed) this.slots[this.slots.indexOf(slot)] = this.spawn();
    });
    worker.unref(); // an idle pool never keeps the process alive; a job in flight does
    return slot;
  }

  private fail(slot: Slot, err: Error): void {
    for (const p of slot.inFlight.values()) p.reject(err);
    slot.inFlight.clear();
  }

  private run(body: JobBody): Promise<string | boolean> {
    if (this.closed) return Promise.reject(new Error('password pool closed'));
    const slot = this.slots.reduce((a, b) => (b.inFlight.size < a.inFlight.size ? b : a));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      slot.inFlight.set(id, { resolve, reject });
      slot.worker.ref();
      slot.worker.postMessage({ id, ...body } satisfies HashJob);
    });
  }

  async hash(password: string): Promise<string> {
    return String(await this.run({ op: 'hash', password, ...this.params }));
  }

  async verify(password: string, stored: string): Promise<boolean> {
    return (await this.run({ op: 'verify', password, stored })) === true;
  }

  stats(): PoolStats {
    const workers = this.slots.map((s) => ({ threadId: s.worker.threadId, inFlight: s.inFlight.size, done: s.done }));
    return { workers, queued: workers.reduce((n, w) => n + Math.max(0, w.inFlight - 1), 0) };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
