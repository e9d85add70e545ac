/**
 * The store facade: the only code of the authority that speaks SQL.
 * One better-sqlite3 connection (WAL, foreign keys on), prepared statements created
 * once, explicit transactions, one repository per concern.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { migrate } from './migrations.js';
import { UserRepo } from './users.js';
import { RoomRepo } from './rooms.js';
import { MessageRepo } from './messages.js';
import { FriendRepo } from './friends.js';
import { DmRepo } from './dms.js';
import { AuditRepo } from './audit.js';
import { PrivacyRepo } from './privacy.js';
export type { Appended, NewMessage, MessageRow } from './messages.js';
export type { UserRow } from './users.js';
export type { RoomRow } from './rooms.js';
export type { AuditRow, AuditVerdict } from './audit.js';

export const DB_FILE_NAME = 'chandler.db';

export interface StoreOptions {
  /** 'FULL' makes a commit survive power loss, not just a crash; group commit keeps it cheap. */
  synchronous?: 'FULL' | 'NORMAL';
}

export class Store {
  readonly db: Database.Database;
  readonly users: UserRepo;
  readonly rooms: RoomRepo;
  readonly messages: MessageRepo;
  readonly friends: FriendRepo;
  readonly dms: DmRepo;
  readonly audit: AuditRepo;
  readonly privacy: PrivacyRepo;
  readonly schemaVersion: number;
  private closed = false;

  constructor(readonly file: string, options: StoreOptions = {}) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    this.schemaVersion = migrate(this.db);
    this.users = new UserRepo(this.db);
    this.rooms = new RoomRepo(this.db);
    this.messages = new MessageRepo(this.db);
    this.friends = new FriendRepo(this.db);
    this.dms = new DmRepo(this.db);
    this.audit = new AuditRepo(this.db);
    this.privacy = new PrivacyRepo(this.db);
  }

  static openInDir(dataDir: string, options?: StoreOptions): Store {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    return new Store(join(dataDir, DB_FILE_NAME), options);
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
