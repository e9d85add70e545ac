/**
 * The device's DM history and pinned friend keys: a sql.js (SQLite in memory) database,
 * encrypted at rest with nacl.secretbox under a key the engine derives once per session.
 *
 * At rest:  "CHDM" | version (1 byte) | nonce (24) | secretbox(sqlite file bytes)
 *
 * Saves are coalesced and serialised. The same user may run several processes on one device
 * (the CLI's `listen` beside a one-shot `dm`), so a save first reads what is stored: when
 * another process changed it, its rows are merged in before writing (messages by id, the
 * furthest status winning; pins by the latest decision; erasures as tombstones).
 */
import nacl from 'tweetnacl';
import type { Database, SqlJsStatic, SqlValue } from 'sql.js';
import type { KeyLogHead, PublicIdentity } from '../../protocol/index.js';
import { KeyLogHead as KeyLogHeadSchema } from '../../protocol/index.js';
import { bytesToBase64, concatBytes, utf8Encode, verifyPublicIdentity } from '../../crypto/index.js';
import { nextTurn } from '../next-turn.js';
import type { DmDirection, DmPath, DmRecord, DmStatus, DmStorage } from './types.js';
import { peerKey } from './peer-key.js';

const MAGIC = utf8Encode('CHDM');
const FORMAT_VERSION = 1;
const HEADER_BYTES = MAGIC.length + 1 + nacl.secretbox.nonceLength;
const SCHEMA_VERSION = 1;
/** A save waits at least this many times as long as the last one took (see lastSaveMs). */
const SAVE_SPACING = 4;
/** Erasure tombstone for every conversation. */
const ALL_PEERS = '*';

// The database lives in memory and reaches the disk only sealed whole (see saveNow): a rollback
// journal in memory is all a transaction needs, and no write waits for a sync.
const SCHEMA = `
PRAGMA secure_delete = ON;
PRAGMA journal_mode = MEMORY;
PRAGMA synchronous = OFF;
CREATE TABLE IF NOT EXISTS pins (
  peer       TEXT PRIMARY KEY,   -- lower-case username
  username   TEXT NOT NULL,
  identity   TEXT NOT NULL,      -- the pinned PublicIdentity (JSON)
  key_id     TEXT NOT NULL,
  pinned_at  INTEGER NOT NULL,
  pending    TEXT,               -- a changed identity waiting for trust (JSON), or NULL
  changed_at INTEGER
);
CREATE TABLE IF NOT EXISTS dms (
  peer       TEXT NOT NULL,      -- lower-case username of the friend
  id         TEXT NOT NULL,
  peer_name  TEXT NOT NULL,
  direction  TEXT NOT NULL CHECK (direction IN ('in', 'out')),
  author     TEXT NOT NULL,
  text       TEXT NOT NULL,
  ts         INTEGER NOT NULL,   -- the sender's timestamp: the conversation's order
  path       TEXT,
  status     TEXT NOT NULL,
  error      TEXT,
  saved_at   INTEGER NOT NULL,   -- this device's clock, for erasures
  PRIMARY KEY (peer, id)
);
CREATE INDEX IF NOT EXISTS dms_order ON dms (peer, ts, id);
CREATE TABLE IF NOT EXISTS erasures (
  peer TEXT PRIMARY KEY,         -- lower-case username, or '*'
  at   INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS key_log_state (
  id          INTEGER PRIMARY KEY CHECK (id = 1),
  public_key  TEXT NOT NULL,     -- the authority's key log key, pinned on first use
  head        TEXT NOT NULL,     -- the newest signed head verified (JSON KeyLogHead)
  mine_after  INTEGER NOT NULL   -- bindings of my name up to this leaf were checked
);
CREATE TABLE IF NOT EXISTS key_log_told (
  key_id TEXT PRIMARY KEY,       -- a key of my name this device already reported (or published itself)
  at     INTEGER NOT NULL
);
PRAGMA user_version = ${SCHEMA_VERSION};
`;

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** How far along a DM is; a merge keeps the furthest. */
const STATUS_RANK: Record<DmStatus, number> = { sending: 0, queued: 1, failed: 2, sent: 3, delivered: 4, received: 5 };

export interface KeyLogState {
  publicKey: string;
  head: KeyLogHead;
  /** The last leaf of my own bindings already checked (-1: none yet). */
  mineAfter: number;
}

export interface Pin {
  peer: string;
  username: string;
  identity: PublicIdentity;
  pinnedAt: number;
  /** A changed key the user has not accepted yet: sending is blocked while it is set. */
  pending: PublicIdentity | null;
}

export interface HistoryExport {
  format: 'chandler-dm-history';
  version: 1;
  exportedAt: number;
  pins: { username: string; keyId: string; pinnedAt: number; pendingKeyId: string | null }[];
  messages: DmRecord[];
}

/** The history key: derived from the device's secret keys, so it needs no extra password stretching. */
export function historyKeyFrom(boxSecretKey: Uint8Array, signSeed: Uint8Array): Uint8Array {
  const label = utf8Encode('chandler-dm-history-v1');
  return nacl.hash(concatBytes(label, boxSecretKey, signSeed)).slice(0, nacl.secretbox.keyLength);
}

function seal(plain: Uint8Array, key: Uint8Array): Uint8Array {
  const nonce = nacl.randomBytes(nacl.secretbox.nonceLength);
  return concatBytes(MAGIC, new Uint8Array([FORMAT_VERSION]), nonce, nacl.secretbox(plain, nonce, key));
}

function unseal(bytes: Uint8Array, key: Uint8Array): Uint8Array | null {
  if (bytes.length < HEADER_BYTES + nacl.secretbox.overheadLength) return null;
  for (let i = 0; i < MAGIC.length; i++) if (bytes[i] !== MAGIC[i]) return null;
  if (bytes[MAGIC.length] !== FORMAT_VERSION) return null;
  const nonce = bytes.subarray(MAGIC.length + 1, HEADER_BYTES);
  return nacl.secretbox.open(bytes.subarray(HEADER_BYTES), nonce, key);
}

/**
 * Names one saved version of the file: every save seals under a fresh random nonce, so the
 * header's nonce and the length tell a file we wrote from one another process wrote since,
 * without hashing megabytes on every save.
 */
function versionOf(bytes: Uint8Array): string {
  return `${bytes.length}:${bytesToBase64(bytes.subarray(0, HEADER_BYTES))}`;
}

type Row = Record<string, SqlValue>;

function parseIdentity(json: SqlValue | undefined): PublicIdentity | null {
  if (typeof json !== 'string') return null;
  try {
    const value: unknown = JSON.parse(json);
    return verifyPublicIdentity(value) ? value : null;
  } catch {
    return null;
  }
}

function toRecord(r: Row): DmRecord {
  const record: DmRecord = {
    id: String(r.id),
    peer: String(r.peer_name),
    direction: r.direction as DmDirection,
    author: String(r.author),
    text: String(r.text),
    ts: Number(r.ts),
    path: (r.path as DmPath | null) ?? null,
    status: r.status as DmStatus,
  };
  if (typeof r.error === 'string') record.error = JSON.parse(r.error) as DmRecord['error'];
  return record;
}

export interface OpenedHistory {
  history: DmHistory;
  /** Set when the stored history could not be read (another identity's, or damaged) and was set aside. */
  setAside: string | null;
}

export class DmHistory {
  private readonly statements = new Map<string, ReturnType<Database['prepare']>>();
  /**
   * Pins as last read, their identities' signatures already checked: every DM sent or received
   * looks its friend's pin up, and checking an Ed25519 signature each time cost milliseconds.
   * Emptied by every write to the pins table.
   */
  private readonly pins = new Map<string, Pin | null>();
  private dirty = false;
  /** Writes of one loop turn share a transaction: one commit for a burst instead of one each. */
  private inTransaction = false;
  private saveTimer: ReturnType<typeof setTimeout> | null = null;
  /**
   * Each save seals the whole database, so its cost grows with the history: the next save waits
   * at least SAVE_SPACING times as long as the last one took, so that saving a large history
   * during a burst of DMs takes a bounded share of the CPU (≤ 1/(1+SAVE_SPACING)).
   */
  private lastSaveMs = 0;
  private chain: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly sql: SqlJsStatic,
    private db: Database,
    private readonly storage: DmStorage,
    private readonly name: string,
    private readonly key: Uint8Array,
    private lastVersion: string | null,
    private readonly saveDelayMs: number,
    private readonly onSaveError: (err: unknown) => void,
  ) {}

  static async open(options: {
    sql: SqlJsStatic;
    storage: DmStorage;
    name: string;
    key: Uint8Array;
    /** The key of the identity this device held before (it took the account's): a history sealed with it is sealed again with `key`. */
    previousKey?: Uint8Array;
    saveDelayMs: number;
    onSaveError: (err: unknown) => void;
    now?: number;
  }): Promise<OpenedHistory> {
    const { sql, storage, name, key } = options;
    const bytes = await storage.read(name);
    let db: Database | null = null;
    let setAside: string | null = null;
    let rekeyed = false;
    if (bytes) {
      db = openDatabase(sql, bytes, key);
      if (!db && options.previousKey) {
        db = openDatabase(sql, bytes, options.previousKey);
        rekeyed = db !== null;
      }
      if (!db) {
        // Never destroy what cannot be read: keep it under another name, start a new history.
        setAside = `${name}.unreadable-${options.now ?? Date.now()}`;
        await storage.write(setAside, bytes);
      }
    }
    db ??= new sql.Database();
    db.exec(SCHEMA);
    const history = new DmHistory(
      sql,
      db,
      storage,
      name,
      key,
      bytes && !setAside ? versionOf(bytes) : null,
      options.saveDelayMs,
      options.onSaveError,
    );
    if (setAside || !bytes) history.markDirty();
    if (rekeyed) {
      // Sealed again at once: the previous identity's key is not kept for it.
      history.markDirty();
      await history.flush();
    }
    return { history, setAside };
  }

  // ---------- statements ----------

  private stmt(sql: string) {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  /** Ends the turn's transaction, if one is open (before an export, a VACUUM or closing). */
  private commit(): void {
    if (!this.inTransaction || this.closed) return;
    this.inTransaction = false;
    try {
      this.db.exec('COMMIT');
    } catch (err) {
      // SQLite already rolled the transaction back (out of memory, say): say so, never throw
      // from the end of a loop turn.
      this.onSaveError(err);
    }
  }

  private all(sql: string, params: SqlValue[] = []): Row[] {
    const s = this.stmt(sql);
    try {
      s.bind(params);
      const rows: Row[] = [];
      while (s.step()) rows.push(s.getAsObject() as Row);
      return rows;
    } finally {
      s.reset();
    }
  }

  private run(sql: string, params: SqlValue[] = []): number {
    if (!this.inTransaction) {
      this.db.exec('BEGIN');
      this.inTransaction = true;
      nextTurn(() => this.commit());
    }
    const s = this.stmt(sql);
    try {
      s.run(params);
    } finally {
      s.reset();
    }
    const changed = this.db.getRowsModified();
    if (changed > 0) this.markDirty();
    return changed;
  }

  // ---------- pins ----------

  /** The pin of a friend; callers get their own copy, so changing it changes nothing stored. */
  pin(peer: string): Pin | null {
    const lower = peerKey(peer);
    let pin = this.pins.get(lower);
    if (pin === undefined) {
      pin = this.readPin(lower);
      this.pins.set(lower, pin);
    }
    return pin && { ...pin };
  }

  private readPin(lower: string): Pin | null {
    const r = this.all('SELECT * FROM pins WHERE peer = ?', [lower])[0];
    if (!r) return null;
    const identity = parseIdentity(r.identity);
    if (!identity) return null;
    return {
      peer: String(r.peer),
      username: String(r.username),
      identity,
      pinnedAt: Number(r.pinned_at),
      pending: parseIdentity(r.pending),
    };
  }

  setPin(username: string, identity: PublicIdentity, now: number): void {
    this.run(
      `INSERT INTO pins (peer, username, identity, key_id, pinned_at, pending, changed_at) VALUES (?, ?, ?, ?, ?, NULL, NULL)
       ON CONFLICT (peer) DO UPDATE SET username = excluded.username, identity = excluded.identity,
         key_id = excluded.key_id, pinned_at = excluded.pinned_at, pending = NULL, changed_at = NULL`,
      [peerKey(username), username, JSON.stringify(identity), identity.keyId, now],
    );
    this.pins.clear();
  }

  setPending(peer: string, identity: PublicIdentity | null, now: number): void {
    this.run('UPDATE pins SET pending = ?, changed_at = ? WHERE peer = ?', [
      identity ? JSON.stringify(identity) : null,
      identity ? now : null,
      peerKey(peer),
    ]);
    this.pins.clear();
  }

  // ---------- the key log (key-log-watch.ts) ----------

  /** What this device knows of the authority's key log: its pinned key, the newest head seen, how far its own bindings were checked. */
  keyLogState(): KeyLogState | null {
    const r = this.all('SELECT * FROM key_log_state WHERE id = 1')[0];
    if (!r) return null;
    const parsed = KeyLogHeadSchema.safeParse(parseJson(String(r.head)));
    return parsed.success ? { publicKey: String(r.public_key), head: parsed.data, mineAfter: Number(r.mine_after) } : null;
  }

  /** True when this device already reported (or itself published) this key of my name. */
  keyLogTold(keyId: string): boolean {
    return this.all('SELECT 1 AS x FROM key_log_told WHERE key_id = ?', [keyId]).length > 0;
  }

  setKeyLogTold(keyId: string, now: number): void {
    this.run('INSERT OR IGNORE INTO key_log_told (key_id, at) VALUES (?, ?)', [keyId, now]);
  }

  setKeyLogState(state: KeyLogState): void {
    this.run(
      `INSERT INTO key_log_state (id, public_key, head, mine_after) VALUES (1, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET public_key = excluded.public_key, head = excluded.head, mine_after = excluded.mine_after`,
      [state.publicKey, JSON.stringify(state.head), state.mineAfter],
    );
  }

  // ---------- messages ----------

  /** Adds a DM; false when this conversation already holds that id (a duplicate). */
  insert(record: DmRecord, now: number): boolean {
    return (
      this.run(
        `INSERT OR IGNORE INTO dms (peer, id, peer_name, direction, author, text, ts, path, status, error, saved_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          peerKey(record.peer),
          record.id,
          record.peer,
          record.direction,
          record.author,
          record.text,
          record.ts,
          record.path,
          record.status,
          record.error ? JSON.stringify(record.error) : null,
          now,
        ],
      ) > 0
    );
  }

  update(record: DmRecord): void {
    this.run('UPDATE dms SET path = ?, status = ?, error = ? WHERE peer = ? AND id = ?', [
      record.path,
      record.status,
      record.error ? JSON.stringify(record.error) : null,
      peerKey(record.peer),
      record.id,
    ]);
  }

  get(peer: string, id: string): DmRecord | null {
    const r = this.all('SELECT * FROM dms WHERE peer = ? AND id = ?', [peerKey(peer), id])[0];
    return r ? toRecord(r) : null;
  }

  /** The latest `limit` DMs with a friend (before `beforeTs` if given), oldest first. */
  conversation(peer: string, limit: number, beforeTs?: number): DmRecord[] {
    const rows = this.all(
      `SELECT * FROM (SELECT * FROM dms WHERE peer = ? AND ts < ? ORDER BY ts DESC, id DESC LIMIT ?) ORDER BY ts, id`,
      [peerKey(peer), beforeTs ?? Number.MAX_SAFE_INTEGER, limit],
    );
    return rows.map(toRecord);
  }

  /**
   * Outgoing DMs to send again when the engine can: those not yet handed to any path, and those
   * that went over a data channel with no receipt yet (the channel may have lost them; the
   * friend's engine drops a copy it already has and receipts it again).
   */
  unsent(): DmRecord[] {
    return this.all(
      `SELECT * FROM dms WHERE direction = 'out' AND (status IN ('sending', 'queued') OR (status = 'sent' AND path = 'direct'))
       ORDER BY ts, id`,
    ).map(toRecord);
  }

  lastOutgoingTs(peer: string): number {
    const r = this.all(`SELECT MAX(ts) AS ts FROM dms WHERE peer = ? AND direction = 'out'`, [peerKey(peer)])[0];
    return typeof r?.ts === 'number' ? r.ts : 0;
  }

  // ---------- export and erase ----------

  export(now: number): HistoryExport {
    const pins = this.all('SELECT * FROM pins ORDER BY peer').map((r) => ({
      username: String(r.username),
      keyId: String(r.key_id),
      pinnedAt: Number(r.pinned_at),
      pendingKeyId: parseIdentity(r.pending)?.keyId ?? null,
    }));
    const messages = this.all('SELECT * FROM dms ORDER BY peer, ts, id').map(toRecord);
    return { format: 'chandler-dm-history', version: 1, exportedAt: now, pins, messages };
  }

  /** How many DMs this device holds. */
  count(): number {
    return Number(this.all('SELECT COUNT(*) AS n FROM dms')[0]?.n ?? 0);
  }

  /** Deletes the DMs of one conversation, or of all; keys stay pinned. Returns how many went. */
  erase(peer: string | null, now: number): number {
    const key = peer === null ? ALL_PEERS : peerKey(peer);
    this.run('INSERT INTO erasures (peer, at) VALUES (?, ?) ON CONFLICT (peer) DO UPDATE SET at = MAX(at, excluded.at)', [key, now]);
    const n = this.applyErasures();
    this.commit();
    this.db.exec('VACUUM');
    return n;
  }

  private applyErasures(): number {
    let n = 0;
    for (const e of this.all('SELECT peer, at FROM erasures')) {
      n += this.run(
        e.peer === ALL_PEERS ? 'DELETE FROM dms WHERE saved_at <= ?' : 'DELETE FROM dms WHERE saved_at <= ? AND peer = ?',
        e.peer === ALL_PEERS ? [e.at as number] : [e.at as number, e.peer as string],
      );
    }
    return n;
  }

  // ---------- persistence ----------

  markDirty(): void {
    this.dirty = true;
    if (this.closed || this.saveTimer) return;
    this.saveTimer = setTimeout(
      () => {
        this.saveTimer = null;
        void this.flush().catch(this.onSaveError);
      },
      Math.max(this.saveDelayMs, SAVE_SPACING * this.lastSaveMs),
    );
  }

  /** Writes pending changes now; resolves once they are stored. */
  flush(): Promise<void> {
    if (this.saveTimer) {
      clearTimeout(this.saveTimer);
      this.saveTimer = null;
    }
    const next = this.chain.then(() => this.saveNow());
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async saveNow(): Promise<void> {
    if (!this.dirty || this.closed) return;
    try {
      const stored = await this.storage.read(this.name);
      if (stored && versionOf(stored) !== this.lastVersion) this.mergeFrom(stored);
      // Everything in memory from here on goes into this export; later changes mark it dirty again.
      this.dirty = false;
      if (this.saveTimer) clearTimeout(this.saveTimer);
      this.saveTimer = null;
      const started = performance.now();
      this.commit();
      const sealed = seal(this.db.export(), this.key);
      this.lastSaveMs = performance.now() - started;
      await this.storage.write(this.name, sealed);
      this.lastVersion = versionOf(sealed);
    } catch (err) {
      this.dirty = true;
      throw err;
    }
  }

  /** Folds in what another process of this user saved since we last read or wrote. */
  private mergeFrom(bytes: Uint8Array): void {
    const other = openDatabase(this.sql, bytes, this.key);
    if (!other) return; // not ours to merge: ours replaces it
    try {
      const rows = (sql: string): Row[] => {
        const s = other.prepare(sql);
        try {
          const out: Row[] = [];
          while (s.step()) out.push(s.getAsObject() as Row);
          return out;
        } finally {
          s.free();
        }
      };
      for (const r of rows('SELECT * FROM dms')) {
        const mine = this.all('SELECT status FROM dms WHERE peer = ? AND id = ?', [r.peer!, r.id!])[0];
        if (!mine) {
          this.run(
            `INSERT INTO dms (peer, id, peer_name, direction, author, text, ts, path, status, error, saved_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
            [r.peer!, r.id!, r.peer_name!, r.direction!, r.author!, r.text!, r.ts!, r.path ?? null, r.status!, r.error ?? null, r.saved_at!],
          );
        } else if (STATUS_RANK[r.status as DmStatus] > STATUS_RANK[mine.status as DmStatus]) {
          this.run('UPDATE dms SET status = ?, path = ?, error = ? WHERE peer = ? AND id = ?', [
            r.status!,
            r.path ?? null,
            r.error ?? null,
            r.peer!,
            r.id!,
          ]);
        }
      }
      for (const r of rows('SELECT * FROM pins')) {
        const mine = this.all('SELECT pinned_at, changed_at FROM pins WHERE peer = ?', [r.peer!])[0];
        const theirs = Math.max(Number(r.pinned_at), Number(r.changed_at ?? 0));
        const ours = mine ? Math.max(Number(mine.pinned_at), Number(mine.changed_at ?? 0)) : -1;
        if (theirs > ours) {
          this.run(
            `INSERT OR REPLACE INTO pins (peer, username, identity, key_id, pinned_at, pending, changed_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
            [r.peer!, r.username!, r.identity!, r.key_id!, r.pinned_at!, r.pending ?? null, r.changed_at ?? null],
          );
        }
      }
      this.pins.clear();
      // A file from before the key log has no such table: nothing to merge then.
      const theirLog = other.exec("SELECT name FROM sqlite_master WHERE name = 'key_log_state'").length
        ? rows('SELECT * FROM key_log_state WHERE id = 1')[0]
        : undefined;
      const ourLog = this.keyLogState();
      if (theirLog) {
        const head = KeyLogHeadSchema.safeParse(parseJson(String(theirLog.head)));
        if (head.success && (!ourLog || head.data.size > ourLog.head.size)) {
          this.setKeyLogState({
            publicKey: String(theirLog.public_key),
            head: head.data,
            mineAfter: Math.max(Number(theirLog.mine_after), ourLog?.mineAfter ?? -1),
          });
        }
      }
      if (other.exec("SELECT name FROM sqlite_master WHERE name = 'key_log_told'").length) {
        for (const r of rows('SELECT * FROM key_log_told')) this.setKeyLogTold(String(r.key_id), Number(r.at));
      }
      for (const r of rows('SELECT * FROM erasures')) {
        this.run('INSERT INTO erasures (peer, at) VALUES (?, ?) ON CONFLICT (peer) DO UPDATE SET at = MAX(at, excluded.at)', [
          r.peer!,
          r.at!,
        ]);
      }
      this.applyErasures();
    } finally {
      other.close();
    }
  }

  /** Saves what is pending, then releases the database. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.flush();
    } finally {
      this.commit();
      this.closed = true;
      for (const s of this.statements.values()) s.free();
      this.statements.clear();
      this.db.close();
    }
  }
}

function openDatabase(sql: SqlJsStatic, bytes: Uint8Array, key: Uint8Array): Database | null {
  const plain = unseal(bytes, key);
  if (!plain) return null;
  try {
    const db = new sql.Database(plain);
    db.exec('SELECT COUNT(*) FROM sqlite_master'); // a damaged file fails here, not later
    return db;
  } catch {
    return null;
  }
}
