/**
 * The admin audit log: append-only, hash-chained. Each entry's hash is SHA-256 over the
 * canonical JSON of its fields and the previous entry's hash, so editing, deleting or
 * reordering any entry breaks the chain at a place `verify()` can name.
 */
import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';

export const GENESIS_HASH = '0'.repeat(64);

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

export type AuditVerdict =
  | { ok: true; entries: number; head: string }
  | { ok: false; entries: number; id: number; problem: string };

/** The canonical form hashed: field order fixed, JSON-escaped, the previous hash included. */
export function auditHash(id: number, e: AuditEntry, prevHash: string): string {
  const canonical = JSON.stringify([id, e.ts, e.actor, e.origin, e.action, e.target, e.detail, prevHash]);
  return createHash('sha256').update(canonical).digest('hex');
}

export class AuditRepo {
  private readonly q;
  /** The last entry this process appended: catches deletion of the newest entries while running. */
  private lastAppended: { id: number; hash: string } | null = null;

  constructor(private readonly db: Database.Database) {
    this.q = {
      last: db.prepare<[], { id: number; hash: string }>('SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1'),
      insert: db.prepare<[number, number, string, string, string, string | null, string | null, string, string]>(
        `INSERT INTO audit_log (id, ts, actor, origin, action, target, detail, prev_hash, hash)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      recent: db.prepare<[number], AuditRow>('SELECT * FROM audit_log ORDER BY id DESC LIMIT ?'),
      all: db.prepare<[], AuditRow>('SELECT * FROM audit_log ORDER BY id'),
      count: db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM audit_log'),
    };
  }

  /** Appends one entry after the current head, in one transaction. */
  append(e: AuditEntry): AuditRow {
    return this.db.transaction(() => {
      const last = this.q.last.get();
      const id = (last?.id ?? 0) + 1;
      const prevHash = last?.hash ?? GENESIS_HASH;
      const hash = auditHash(id, e, prevHash);
      this.q.insert.run(id, e.ts, e.actor, e.origin, e.action, e.target, e.detail, prevHash, hash);
      this.lastAppended = { id, hash };
      return { id, ...e, prev_hash: prevHash, hash };
    })();
  }

  /** The newest entries, newest last. */
  recent(n: number): AuditRow[] {
    return this.q.recent.all(n).reverse();
  }

  count(): number {
    return this.q.count.get()?.n ?? 0;
  }

  /** Walks the whole chain; names the first entry that does not hold. */
  verify(): AuditVerdict {
    let prevId = 0;
    let prevHash = GENESIS_HASH;
    let entries = 0;
    for (const row of this.q.all.iterate()) {
      entries++;
      if (row.id !== prevId + 1) {
        const gap = row.id - prevId - 1;
        const missing = gap === 1 ? `entry ${prevId + 1} is missing` : `entries ${prevId + 1}–${row.id - 1} are missing`;
        return { ok: false, entries, id: prevId + 1, problem: `${missing} (deleted)` };
      }
      if (auditHash(row.id, row, row.prev_hash) !== row.hash) {
        return { ok: false, entries, id: row.id, problem: `entry ${row.id} was edited: its contents no longer match its hash` };
      }
      if (row.prev_hash !== prevHash) {
        return {
          ok: false,
          entries,
          id: prevId,
          problem: `entry ${prevId} was rewritten: entry ${row.id} holds a different hash for it`,
        };
      }
      prevId = row.id;
      prevHash = row.hash;
    }
    const known = this.lastAppended;
    if (known && known.id > prevId) {
      return {
        ok: false,
        entries,
        id: prevId + 1,
        problem: `entries ${prevId + 1}–${known.id} were deleted (this authority wrote up to ${known.id})`,
      };
    }
    if (known && known.id === prevId && known.hash !== prevHash) {
      return { ok: false, entries, id: prevId, problem: `entry ${prevId} was replaced after this authority wrote it` };
    }
    return { ok: true, entries, head: prevHash };
  }
}
