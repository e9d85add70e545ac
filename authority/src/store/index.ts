/**
 * The store facade: the only code of the authority that speaks SQL.
 * One better-sqlite3 connection (WAL, foreign keys on), prepared statements created
 * once, explicit transactions, one repository per concern.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { migrate } from './migrations.js';
import { nameSkeleton, SKELETON_SQL_FUNCTION } from './name-skeleton.js';
import { UserRepo } from './users.js';
import { RoomRepo } from './rooms.js';
import { MessageRepo } from './messages.js';
import { FriendRepo } from './friends.js';
import { DeviceRepo } from './devices.js';
import { DmRepo } from './dms.js';
import { AuditRepo, openAuditAnchor, type AuditAnchor } from './audit.js';
import { KeyLogRepo } from './key-log.js';
import { PrivacyRepo } from './privacy.js';
export type { Appended, NewMessage, MessageRow } from './messages.js';
export type { UserRow } from './users.js';
export type { RoomRow } from './rooms.js';
export type { AuditRow, AuditVerdict } from './audit.js';

export const DB_FILE_NAME = 'chandler.db';
/** The data dir and what it holds (password hashes, keys, backups) are the owner's only. */
export const DATA_DIR_MODE = 0o700;
export const SECRET_FILE_MODE = 0o600;
/** Files of the data dir that others may read: the certificate is what clients pin anyway. */
const PUBLIC_FILES = new Set(['tls-cert.pem']);
const GROUP_OTHER_BITS = 0o077;

/** A file (or the dir) whose mode let others in, and the mode it had before it was fixed. */
export interface ModeFixed {
  path: string;
  was: string;
}

function octal(mode: number): string {
  return (mode & 0o777).toString(8).padStart(4, '0');
}

/**
 * Creates the data dir owner-only, or makes an existing one so: the dir 0700, every file in it
 * and in its subdirectories (backups, exports) 0600 except the public certificate. Fixes rather
 * than refuses, so that an authority started on an old data dir keeps serving; each fix is
 * returned for a warning in the log.
 */
export function secureDataDir(dataDir: string): ModeFixed[] {
  mkdirSync(dataDir, { recursive: true, mode: DATA_DIR_MODE });
  const fixed: ModeFixed[] = [];
  const walk = (dir: string, want: number) => {
    const st = statSync(dir);
    if ((st.mode & 0o777) !== want) {
      fixed.push({ path: dir, was: octal(st.mode) });
      chmodSync(dir, want);
    }
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path, DATA_DIR_MODE);
      else if ((entry.isFile() || entry.isSocket()) && !(dir === dataDir && PUBLIC_FILES.has(entry.name))) {
        const mode = statSync(path).mode;
        if (mode & GROUP_OTHER_BITS) {
          fixed.push({ path, was: octal(mode) });
          chmodSync(path, mode & ~GROUP_OTHER_BITS & 0o777);
        }
      }
    }
  };
  walk(dataDir, DATA_DIR_MODE);
  return fixed;
}

/** Creates an empty file owner-only if it does not exist: SQLite would make it 0644 (umask). */
export function createOwnerOnly(file: string): void {
  if (!existsSync(file)) closeSync(openSync(file, 'a', SECRET_FILE_MODE));
}

export interface StoreOptions {
  /** 'FULL' makes a commit survive power loss, not just a crash; group commit keeps it cheap. */
  synchronous?: 'FULL' | 'NORMAL';
  /** The audit key and head file (openInDir: the data dir's); without one, the chain is unanchored. */
  auditAnchor?: AuditAnchor;
}

export class Store {
  readonly db: Database.Database;
  readonly users: UserRepo;
  readonly rooms: RoomRepo;
  readonly messages: MessageRepo;
  readonly friends: FriendRepo;
  readonly dms: DmRepo;
  readonly devices: DeviceRepo;
  readonly keyLog: KeyLogRepo;
  readonly audit: AuditRepo;
  readonly privacy: PrivacyRepo;
  readonly schemaVersion: number;
  /** Files whose modes let others in, fixed at open (openInDir): the authority logs a warning for each. */
  modesFixed: ModeFixed[] = [];
  private closed = false;

  constructor(readonly file: string, options: StoreOptions = {}) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    this.db.function(SKELETON_SQL_FUNCTION, { deterministic: true }, (name) => nameSkeleton(String(name)));
    this.schemaVersion = migrate(this.db);
    this.users = new UserRepo(this.db);
    this.rooms = new RoomRepo(this.db);
    this.messages = new MessageRepo(this.db);
    this.friends = new FriendRepo(this.db);
    this.dms = new DmRepo(this.db);
    this.devices = new DeviceRepo(this.db);
    this.keyLog = new KeyLogRepo(this.db);
    this.audit = new AuditRepo(this.db, options.auditAnchor ?? null);
    this.privacy = new PrivacyRepo(this.db);
  }

  static openInDir(dataDir: string, options?: StoreOptions): Store {
    const modesFixed = secureDataDir(dataDir);
    const file = join(dataDir, DB_FILE_NAME);
    // -wal and -shm take the main file's mode, so an owner-only database keeps them owner-only.
    createOwnerOnly(file);
    const store = new Store(file, { ...options, auditAnchor: openAuditAnchor(dataDir) });
    store.modesFixed = modesFixed;
    return store;
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /** Folds the WAL into the main file; called at graceful shutdown. */
  checkpoint(): void {
    if (!this.closed) this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  close(): void {
    if (this.closed) return;
    this.messages.close();
    this.checkpoint();
    this.closed = true;
    this.db.close();
  }
}
