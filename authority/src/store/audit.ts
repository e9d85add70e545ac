/**
 * The admin audit log: append-only, hash-chained, and anchored outside the database.
 *
 * Each entry's hash is SHA-256 over the canonical JSON of its fields and the previous entry's
 * hash, so editing, deleting or reordering an entry breaks the chain at a place `verify()` can
 * name. The chain alone has no secret: someone with the database file can drop the triggers,
 * edit a row and recompute every hash after it. So each entry also gets a MAC (HMAC-SHA256 over
 * its id and hash) with a key kept in its own owner-only file (`audit.key`), and after each
 * commit the head (count, hash, MAC, time) is appended to `audit.head`. A rewritten chain fails
 * its MACs; rows cut from the end fall short of the head file.
 *
 * Order of writes: the entry and its MAC commit in one transaction, then the head line is
 * appended and fsynced. A crash between the two leaves the head one entry behind the database,
 * which `verify()` accepts (the extra entry still needs a valid MAC): the newest entry is the
 * one whose deletion may go unnoticed after such a crash.
 *
 * What it cannot detect: someone who can read the key file (the owner of the data dir, root)
 * can forge MACs and head lines; someone who can write the data dir can cut the database and
 * the head file back to the same earlier point. The head is also written to the authority's
 * log at every entry, so a copy kept elsewhere (the journal) still shows what was there.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { join } from 'node:path';
import type Database from 'better-sqlite3';

export const GENESIS_HASH = '0'.repeat(64);
export const AUDIT_KEY_FILE = 'audit.key';
export const AUDIT_HEAD_FILE = 'audit.head';
const AUDIT_KEY_BYTES = 32;
const SECRET_FILE_MODE = 0o600;

export interface AuditEntry {
  ts: number;
  actor: string;
  origin: string;
  action: string;
  target: string | null;
  detail: string | null;
}

export interface AuditRow extends AuditEntry {
  id: number;
  prev_hash: string;
  hash: string;
}

export type AuditProblem = 'edited' | 'deleted' | 'rewritten' | 'truncated' | 'key missing';

export type AuditVerdict =
  | { ok: true; entries: number; head: string; anchored: boolean }
  | { ok: false; entries: number; id: number; kind: AuditProblem; problem: string };

/** One line of the head file: the chain's state after an entry. */
export interface AuditHead {
  count: number;
  hash: string;
  mac: string;
  at: string;
}

/** The canonical form hashed: field order fixed, JSON-escaped, the previous hash included. */
export function auditHash(id: number, e: AuditEntry, prevHash: string): string {
  const canonical = JSON.stringify([id, e.ts, e.actor, e.origin, e.action, e.target, e.detail, prevHash]);
  return createHash('sha256').update(canonical).digest('hex');
}

/** The MAC of an entry (and of the head line after it): its id and chained hash, keyed. */
export function auditMac(key: Buffer, id: number, hash: string): string {
  return createHmac('sha256', key).update(`chandler-audit:${id}:${hash}`).digest('hex');
}

function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

/** The audit key and head file of a data dir. `key` is null when the key file is gone. */
export interface AuditAnchor {
  key: Buffer | null;
  /** True when this open created the key: entries already in the log are MACed once (upgrade). */
  created: boolean;
  keyFile: string;
  headFile: string;
}

export function readHeads(headFile: string): AuditHead[] {
  if (!existsSync(headFile)) return [];
  const heads: AuditHead[] = [];
  for (const line of readFileSync(headFile, 'utf8').split('\n')) {
    const m = /^(\d+) ([0-9a-f]{64}) ([0-9a-f]{64}) (\S+)$/.exec(line.trim());
    if (m) heads.push({ count: Number(m[1]), hash: m[2]!, mac: m[3]!, at: m[4]! });
  }
  return heads;
}

/**
 * Loads the data dir's audit key, or creates it (0600, never overwriting) when neither a key
 * nor a head file exists yet. A head file without its key means the key was lost or removed:
 * no new key is made, so `verify()` reports it instead of starting a fresh, unanchored chain.
 */
export function openAuditAnchor(dataDir: string): AuditAnchor {
  const keyFile = join(dataDir, AUDIT_KEY_FILE);
  const headFile = join(dataDir, AUDIT_HEAD_FILE);
  if (existsSync(keyFile)) {
    const key = readFileSync(keyFile);
    return { key: key.length === AUDIT_KEY_BYTES ? key : null, created: false, keyFile, headFile };
  }
  if (existsSync(headFile)) return { key: null, created: false, keyFile, headFile };
  const key = randomBytes(AUDIT_KEY_BYTES);
  const fd = openSync(keyFile, 'wx', SECRET_FILE_MODE);
  try {
    writeSync(fd, key);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return { key, created: true, keyFile, headFile };
}

/** Appends one head line and fsyncs it: admin actions are rare, and a lost line is a false alarm. */
function appendHead(headFile: string, key: Buffer, count: number, hash: string): void {
  const fd = openSync(headFile, 'a', SECRET_FILE_MODE);
  try {
    writeSync(fd, `${count} ${hash} ${auditMac(key, count, hash)} ${new Date().toISOString()}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export class AuditRepo {
  private readonly q;
  /** The last entry this process appended: catches deletion of the newest entries while running. */
  private lastAppended: { id: number; hash: string } | null = null;

  constructor(
    private readonly db: Database.Database,
    private readonly anchor: AuditAnchor | null = null,
  ) {
    this.q = {
      last: db.prepare<[], { id: number; hash: string }>('SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1'),
      insert: db.prepare<[number, number, string, string, string, string | null, string | null, string, string]>(
        `INSERT INTO audit_log (id, ts, actor, origin, action, target, detail, prev_hash, hash)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      insertMac: db.prepare<[number, string]>('INSERT INTO audit_mac (id, mac) VALUES (?, ?)'),
      recent: db.prepare<[number], AuditRow>('SELECT * FROM audit_log ORDER BY id DESC LIMIT ?'),
      all: db.prepare<[], AuditRow & { mac: string | null }>(
        'SELECT l.*, m.mac AS mac FROM audit_log l LEFT JOIN audit_mac m ON m.id = l.id ORDER BY l.id',
      ),
      unsealed: db.prepare<[], { id: number; hash: string }>(
        'SELECT l.id, l.hash FROM audit_log l LEFT JOIN audit_mac m ON m.id = l.id WHERE m.id IS NULL ORDER BY l.id',
      ),
      count: db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM audit_log'),
    };
    if (anchor?.created) this.sealExisting();
  }

  /** True when entries are MACed and the head file written (the key file is present). */
  get anchored(): boolean {
    return this.anchor?.key != null;
  }

  /**
   * MACs every entry that has none and writes the head: done once, when the key is created
   * (an upgrade from an unanchored log), or by a restore, which is itself audited.
   * Returns how many entries were sealed.
   */
  sealExisting(): number {
    const key = this.anchor?.key;
    if (!key) return 0;
    const rows = this.q.unsealed.all();
    this.db.transaction(() => {
      for (const r of rows) this.q.insertMac.run(r.id, auditMac(key, r.id, r.hash));
    })();
    const last = this.q.last.get();
    if (last) appendHead(this.anchor!.headFile, key, last.id, last.hash);
    return rows.length;
  }

  /**
   * Starts a new head file at the database's current head, keeping the old one beside it
   * (`audit.head.before-<suffix>`): a restored database is an earlier chain on purpose.
   */
  resetHead(suffix: string): string | null {
    if (!this.anchor?.key) return null;
    let kept: string | null = null;
    if (existsSync(this.anchor.headFile)) {
      kept = `${this.anchor.headFile}.before-${suffix}`;
      renameSync(this.anchor.headFile, kept);
    }
    const last = this.q.last.get();
    if (last) appendHead(this.anchor.headFile, this.anchor.key, last.id, last.hash);
    return kept;
  }

  /** Appends one entry after the current head, in one transaction, then the head line. */
  append(e: AuditEntry): AuditRow {
    const key = this.anchor?.key ?? null;
    const row = this.db.transaction(() => {
      const last = this.q.last.get();
      const id = (last?.id ?? 0) + 1;
      const prevHash = last?.hash ?? GENESIS_HASH;
      const hash = auditHash(id, e, prevHash);
      this.q.insert.run(id, e.ts, e.actor, e.origin, e.action, e.target, e.detail, prevHash, hash);
      if (key) this.q.insertMac.run(id, auditMac(key, id, hash));
      return { id, ...e, prev_hash: prevHash, hash };
    })();
    this.lastAppended = { id: row.id, hash: row.hash };
    if (key) appendHead(this.anchor!.headFile, key, row.id, row.hash);
    return row;
  }

  /** The newest entries, newest last. */
  recent(n: number): AuditRow[] {
    return this.q.recent.all(n).reverse();
  }

  count(): number {
    return this.q.count.get()?.n ?? 0;
  }

  /**
   * Walks the whole chain and names the first entry that does not hold: the hash chain first
   * (edited, deleted, relinked rows), then the MACs (a chain recomputed without the key), then
   * the head file (rows cut from the end).
   */
  verify(): AuditVerdict {
    let prevId = 0;
    let prevHash = GENESIS_HASH;
    let entries = 0;
    const key = this.anchor?.key ?? null;
    let badMac: number | null = null;
    const hashAt = new Map<number, string>();
    for (const row of this.q.all.iterate()) {
      entries++;
      if (row.id !== prevId + 1) {
        const gap = row.id - prevId - 1;
        const missing = gap === 1 ? `entry ${prevId + 1} is missing` : `entries ${prevId + 1}–${row.id - 1} are missing`;
        return { ok: false, entries, id: prevId + 1, kind: 'deleted', problem: `${missing} (deleted)` };
      }
      if (auditHash(row.id, row, row.prev_hash) !== row.hash) {
        return {
          ok: false,
          entries,
          id: row.id,
          kind: 'edited',
          problem: `entry ${row.id} was edited: its contents no longer match its hash`,
        };
      }
      if (row.prev_hash !== prevHash) {
        return {
          ok: false,
          entries,
          id: prevId,
          kind: 'rewritten',
          problem: `entry ${prevId} was rewritten: entry ${row.id} holds a different hash for it`,
        };
      }
      if (key && badMac === null && (row.mac === null || !sameHex(row.mac, auditMac(key, row.id, row.hash)))) {
        badMac = row.id;
      }
      hashAt.set(row.id, row.hash);
      prevId = row.id;
      prevHash = row.hash;
    }
    if (badMac !== null) {
      return {
        ok: false,
        entries,
        id: badMac,
        kind: 'rewritten',
        problem: `rewritten: entry ${badMac} does not carry the MAC of the audit key (the chain from there was recomputed without it)`,
      };
    }
    const known = this.lastAppended;
    if (known && known.id > prevId) {
      return {
        ok: false,
        entries,
        id: prevId + 1,
        kind: 'truncated',
        problem: `entries ${prevId + 1}–${known.id} were deleted (this authority wrote up to ${known.id})`,
      };
    }
    if (known && known.id === prevId && known.hash !== prevHash) {
      return { ok: false, entries, id: prevId, kind: 'rewritten', problem: `entry ${prevId} was replaced after this authority wrote it` };
    }
    if (this.anchor && !key) {
      return {
        ok: false,
        entries,
        id: prevId,
        kind: 'key missing',
        problem: `the audit key file ${this.anchor.keyFile} is missing or damaged: the MACs cannot be checked (restore it from where it was kept)`,
      };
    }
    if (this.anchor && key) {
      // Lines not written with the key are ignored: anyone can append text to the file.
      const heads = readHeads(this.anchor.headFile).filter((h) => sameHex(h.mac, auditMac(key, h.count, h.hash)));
      const furthest = heads.reduce<AuditHead | null>((m, h) => (m && m.count >= h.count ? m : h), null);
      if (furthest && furthest.count > prevId) {
        return {
          ok: false,
          entries,
          id: prevId + 1,
          kind: 'truncated',
          problem: `truncated: the log ends at entry ${prevId} but the head file recorded ${furthest.count} entries (at ${furthest.at})`,
        };
      }
      for (const h of heads) {
        if (hashAt.get(h.count) !== h.hash) {
          return {
            ok: false,
            entries,
            id: h.count,
            kind: 'rewritten',
            problem: `rewritten: entry ${h.count}'s hash differs from the head file's record of it (at ${h.at})`,
          };
        }
      }
      if (entries > 1 && heads.length === 0) {
        return {
          ok: false,
          entries,
          id: prevId,
          kind: 'truncated',
          problem: `truncated: the head file ${this.anchor.headFile} is missing or empty while the log holds ${entries} entries`,
        };
      }
    }
    return { ok: true, entries, head: prevHash, anchored: key !== null };
  }
}
