/**
 * Online backups of the authority's database: a daily one at a configurable time, one on demand
 * (/backup, with progress), rotation keeping the newest few, and a restore for a stopped authority.
 * Backups hold what the database holds: no DM plaintext, since the authority never has it.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import Database from 'better-sqlite3';
import { userInfo } from 'node:os';
import { createOwnerOnly, DATA_DIR_MODE, DB_FILE_NAME, Store } from './store/index.js';
import { listMigrations } from './store/migrations.js';
import { AUDIT_HEAD_FILE, readHeads } from './store/audit.js';
import { runningAuthorityPid } from './pidfile.js';

export const BACKUP_DIR = 'backups';
export const BACKUPS_KEPT = 7;
/** chandler-YYYYMMDD-HHMMSS-NNN.db: the counter orders backups taken within one second. */
const BACKUP_NAME = /^chandler-(\d{8}-\d{6})-(\d{3})\.db$/;
/** Pages copied per step: small steps keep the event loop responsive while a backup runs. */
const PAGES_PER_STEP = 256;

export interface BackupResult {
  file: string;
  bytes: number;
  ms: number;
  removed: string[];
}

export type BackupProgress = (done: number, total: number) => void;

function stamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** Parses "HH:MM" (24 h); null when it is not a time of day. */
export function parseTimeOfDay(text: string): { hour: number; minute: number } | null {
  const m = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(text.trim());
  return m ? { hour: Number(m[1]), minute: Number(m[2]) } : null;
}

/** Milliseconds from `now` to the next HH:MM, local time. */
export function msUntil(time: { hour: number; minute: number }, now = new Date()): number {
  const next = new Date(now);
  next.setHours(time.hour, time.minute, 0, 0);
  if (next.getTime() <= now.getTime()) next.setDate(next.getDate() + 1);
  return next.getTime() - now.getTime();
}

export function listBackups(dataDir: string): { file: string; bytes: number; at: string }[] {
  const dir = join(dataDir, BACKUP_DIR);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => BACKUP_NAME.test(n))
    .sort()
    .map((n) => ({ file: join(dir, n), bytes: statSync(join(dir, n)).size, at: BACKUP_NAME.exec(n)![1]! }));
}

export class BackupManager {
  private timer: NodeJS.Timeout | null = null;
  /** When the next daily backup runs (ms since epoch), or null when none is scheduled. */
  nextRunAt: number | null = null;
  private running: Promise<BackupResult> | null = null;
  lastResult: BackupResult | null = null;
  lastError: string | null = null;
  /** Pages done / total of the backup in progress, for /threads. */
  progress: { done: number; total: number } | null = null;

  constructor(
    private readonly store: Store,
    private readonly dataDir: string,
    private readonly keep = BACKUPS_KEPT,
  ) {}

  /** A consistent copy of the live database, taken while the authority keeps serving. */
  backupNow(onProgress?: BackupProgress): Promise<BackupResult> {
    // One at a time: a second request joins the one running.
    this.running ??= this.run(onProgress).finally(() => {
      this.running = null;
      this.progress = null;
    });
    return this.running;
  }

  private async run(onProgress?: BackupProgress): Promise<BackupResult> {
    const started = Date.now();
    const dir = join(this.dataDir, BACKUP_DIR);
    mkdirSync(dir, { recursive: true, mode: DATA_DIR_MODE });
    const file = join(dir, this.nextName());
    const partial = `${file}.partial`;
    try {
      // SQLite would create the copy with the umask's mode (0644): it holds the password hashes.
      createOwnerOnly(partial);
      await this.store.db.backup(partial, {
        progress: ({ totalPages, remainingPages }) => {
          this.progress = { done: totalPages - remainingPages, total: totalPages };
          onProgress?.(totalPages - remainingPages, totalPages);
          return PAGES_PER_STEP;
        },
      });
      checkDatabase(partial);
      renameSync(partial, file);
      removeEmptyWal(partial);
    } catch (err) {
      rmSync(partial, { force: true });
      this.lastError = (err as Error).message;
      throw err;
    }
    const removed = this.rotate();
    const result = { file, bytes: statSync(file).size, ms: Date.now() - started, removed };
    this.lastResult = result;
    this.lastError = null;
    return result;
  }

  /** A name that sorts after every existing backup (names order backups; clocks can go back). */
  private nextName(): string {
    const now = stamp(new Date());
    const last = listBackups(this.dataDir).at(-1);
    const m = last ? BACKUP_NAME.exec(basename(last.file)) : null;
    if (m && m[1]! >= now) return `chandler-${m[1]}-${String(Number(m[2]) + 1).padStart(3, '0')}.db`;
    return `chandler-${now}-000.db`;
  }

  /** Keeps the newest `keep` backups. */
  private rotate(): string[] {
    const all = listBackups(this.dataDir);
    const old = all.slice(0, Math.max(0, all.length - this.keep));
    for (const b of old) rmSync(b.file, { force: true });
    return old.map((b) => basename(b.file));
  }

  /** Schedules the daily backup at HH:MM local time; errors are reported, never thrown. */
  scheduleDaily(time: { hour: number; minute: number }, report: (r: BackupResult | Error) => void): void {
    this.stop();
    const arm = () => {
      const wait = msUntil(time);
      this.nextRunAt = Date.now() + wait;
      this.timer = setTimeout(() => {
        this.backupNow().then(report, (e: Error) => report(e)).finally(arm);
      }, wait);
      this.timer.unref();
    };
    arm();
  }

  get isRunning(): boolean {
    return this.running !== null;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.nextRunAt = null;
  }
}

/**
 * The read-only check of a WAL-mode copy leaves an empty -wal and its -shm beside it: nothing
 * in them, but they would pile up in backups/ under names no rotation knows.
 */
function removeEmptyWal(file: string): void {
  const wal = `${file}-wal`;
  if (existsSync(wal) && statSync(wal).size > 0) return;
  rmSync(wal, { force: true });
  rmSync(`${file}-shm`, { force: true });
}

/** Opens a database file read-only and checks that it is sound and a schema this authority knows. */
export function checkDatabase(file: string): { schemaVersion: number } {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const ok = db.pragma('integrity_check', { simple: true });
    if (ok !== 'ok') throw new Error(`integrity check failed: ${String(ok)}`);
    const version = db.pragma('user_version', { simple: true }) as number;
    const latest = listMigrations().length;
    if (version < 1 || version > latest) throw new Error(`schema version ${version} is not one this authority knows (1–${latest})`);
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('users','rooms','messages')").all();
    if (tables.length !== 3) throw new Error('not a CHandler database');
    return { schemaVersion: version };
  } finally {
    db.close();
  }
}

export interface RestoreResult {
  previous: string | null;
  /** The audit head file of the replaced database, kept beside the new one. */
  previousHead: string | null;
  /** Entries of an old, unanchored backup MACed by the restore. */
  sealed: number;
}

/**
 * Restores a backup into a stopped authority's data dir. The current database is kept beside it
 * (chandler.db.before-restore-<stamp>), never deleted. Throws with a clear message on any problem.
 *
 * The audit key stays (backups are MACed with the same data dir key); the head file, which
 * records the replaced database's longer chain, is kept as audit.head.before-restore-<stamp>
 * and a new one starts at the restored chain's head, so the restore does not read as a
 * truncation. The restore itself is the restored log's next entry, naming the old head.
 */
export function restoreBackup(dataDir: string, backupFile: string): RestoreResult {
  if (!existsSync(backupFile)) throw new Error(`no such backup file: ${backupFile}`);
  checkDatabase(backupFile);
  const live = join(dataDir, DB_FILE_NAME);
  let previous: string | null = null;
  const holder = runningAuthorityPid(dataDir);
  if (holder !== null) throw new Error(`the authority (pid ${holder}) is running on this data dir: stop it first`);
  if (existsSync(live)) {
    // Belt and braces: an exclusive lock fails if any process still has the database open.
    const probe = new Database(live, { fileMustExist: true });
    try {
      probe.pragma('locking_mode = EXCLUSIVE');
      probe.exec('BEGIN EXCLUSIVE; COMMIT;');
      probe.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      throw new Error('the authority seems to be running on this data dir: stop it first');
    } finally {
      probe.close();
    }
    previous = `${live}.before-restore-${stamp(new Date())}`;
    renameSync(live, previous);
  }
  for (const suffix of ['-wal', '-shm']) rmSync(`${live}${suffix}`, { force: true });
  mkdirSync(dataDir, { recursive: true, mode: DATA_DIR_MODE });
  createOwnerOnly(live);
  copyFileSync(backupFile, live);
  const when = stamp(new Date());
  const store = Store.openInDir(dataDir);
  try {
    const before = store.audit.anchored ? readLastHead(dataDir) : null;
    const sealed = store.audit.sealExisting();
    const previousHead = store.audit.resetHead(`restore-${when}`);
    store.audit.append({
      ts: Date.now(),
      actor: userInfo().username,
      origin: 'restore',
      action: 'restore',
      target: null,
      detail: `from ${basename(backupFile)}; replaced log's head: ${before ?? 'none'}${sealed ? `; ${sealed} unanchored entries MACed` : ''}`,
    });
    return { previous, previousHead, sealed };
  } finally {
    store.close();
  }
}

function readLastHead(dataDir: string): string | null {
  const last = readHeads(join(dataDir, AUDIT_HEAD_FILE)).at(-1);
  return last ? `${last.count}:${last.hash.slice(0, 16)}` : null;
}
