/**
 * WAL checkpoints off the event loop. SQLite checkpoints automatically inside the commit that
 * pushes the WAL past 1000 pages: on the event loop, that commit then copies megabytes and
 * waits for two fsyncs (measured here: mean commit time ×3, p99 14 ms, worst 67 ms). Instead a
 * worker thread with its own connection checkpoints (PASSIVE) at most every CHECKPOINT_EVERY_MS
 * while messages are being committed, and the main connection's automatic checkpoint is moved
 * far out, as a backstop should the worker ever be gone.
 *
 * SQLite starts the WAL over (instead of growing it) only when a checkpoint has copied every
 * frame before the next write begins, which a checkpoint running beside a steady stream of
 * commits never quite does. So once the WAL is big and the worker reports it nearly copied, the
 * main connection copies the last few frames itself: a small checkpoint now and then, instead of
 * a WAL that grows to the backstop.
 */
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';

const WORKER = new URL('./checkpoint-worker.mjs', import.meta.url);
export const CHECKPOINT_EVERY_MS = 100;
/** SQLite's default automatic checkpoint threshold (pages). */
const AUTO_CHECKPOINT_PAGES = 1000;
/** The backstop while the worker runs: about 80 MB of WAL with 4 KiB pages. */
const BACKSTOP_CHECKPOINT_PAGES = 20_000;
/** A WAL this long (frames, about 16 MB) is started over as soon as the worker nearly caught up. */
const RESTART_AFTER_FRAMES = 4096;
/** "Nearly": frames left to copy for the main connection's small checkpoint. */
const CATCH_UP_FRAMES = 256;

interface CheckpointResult {
  busy: number;
  log: number;
  checkpointed: number;
}

export class Checkpointer {
  private worker: Worker | null = null;
  private lastRequest = -Infinity;
  private closed = false;

  constructor(private readonly db: Database.Database) {}

  /** After a commit: starts the worker on first use, and asks it for a checkpoint now and then. */
  committed(now = performance.now()): void {
    if (this.closed || this.db.memory || now - this.lastRequest < CHECKPOINT_EVERY_MS) return;
    this.lastRequest = now;
    this.worker ??= this.start();
    this.worker?.postMessage('checkpoint');
  }

  private start(): Worker | null {
    try {
      const synchronous = Number(this.db.pragma('synchronous', { simple: true }));
      const worker = new Worker(WORKER, { workerData: { file: this.db.name, synchronous } });
      worker.unref();
      const fallBack = () => {
        if (this.worker !== worker) return;
        this.worker = null;
        this.closed = true; // do not respawn in a loop: the main connection checkpoints again
        if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${AUTO_CHECKPOINT_PAGES}`);
      };
      worker.on('error', fallBack);
      worker.on('exit', fallBack);
      worker.on('message', (r: CheckpointResult) => this.caughtUp(r));
      this.db.pragma(`wal_autocheckpoint = ${BACKSTOP_CHECKPOINT_PAGES}`);
      return worker;
    } catch {
      return null;
    }
  }

  private caughtUp(r: CheckpointResult): void {
    if (this.closed || !this.db.open || r.log < RESTART_AFTER_FRAMES || r.log - r.checkpointed > CATCH_UP_FRAMES) return;
    try {
      this.db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // busy: the next report tries again
    }
  }

  /** Idempotent; called before the database closes (which then folds the WAL in itself). */
  close(): void {
    this.closed = true;
    const w = this.worker;
    this.worker = null;
    if (w) void w.terminate();
  }
}
