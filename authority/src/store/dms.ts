import type Database from 'better-sqlite3';
import type { IdentityBackup, PublicIdentity } from '../../../shared/protocol/index.js';

interface KeyRow {
  user_id: number;
  key_id: string;
  box_pk: string;
  sign_pk: string;
  signature: string;
  updated_at: number;
}

export interface StoredDmRow {
  id: number;
  to_id: number;
  from_id: number;
  from_name: string;
  envelope: string;
  created_at: number;
}

/** Public identity keys and stored (ciphertext-only) direct messages. */
export class DmRepo {
  private readonly q;

  constructor(db: Database.Database) {
    this.q = {
      getKeys: db.prepare<[number], KeyRow>('SELECT * FROM identity_keys WHERE user_id = ?'),
      putKeys: db.prepare<[number, string, string, string, string, number]>(
        `INSERT INTO identity_keys (user_id, key_id, box_pk, sign_pk, signature, updated_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (user_id) DO UPDATE SET key_id = excluded.key_id, box_pk = excluded.box_pk,
           sign_pk = excluded.sign_pk, signature = excluded.signature, updated_at = excluded.updated_at`,
      ),
      getBackup: db.prepare<[number], { key_id: string; wrap: string; sealed: string }>(
        'SELECT key_id, wrap, sealed FROM identity_backups WHERE user_id = ?',
      ),
      putBackup: db.prepare<[number, string, string, string, number]>(
        `INSERT INTO identity_backups (user_id, key_id, wrap, sealed, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (user_id) DO UPDATE SET key_id = excluded.key_id, wrap = excluded.wrap,
           sealed = excluded.sealed, updated_at = excluded.updated_at`,
      ),
      rewrapBackup: db.prepare<[string, number, number, string]>(
        'UPDATE identity_backups SET wrap = ?, updated_at = ? WHERE user_id = ? AND key_id = ?',
      ),
      deleteBackup: db.prepare<[number]>('DELETE FROM identity_backups WHERE user_id = ?'),
      insert: db.prepare<[number, number, string, number]>(
        'INSERT INTO stored_dms (to_id, from_id, envelope, created_at) VALUES (?, ?, ?, ?)',
      ),
      /** Waiting for every device: none of the recipient's devices has it yet. */
      countFor: db.prepare<[number], { n: number }>(
        `SELECT COUNT(*) AS n FROM stored_dms d
         WHERE d.to_id = ? AND NOT EXISTS (SELECT 1 FROM stored_dm_acks a WHERE a.dm_id = d.id)`,
      ),
      /** Past the recipient's bound, the oldest envelopes one of their devices already has make room. */
      trim: db.prepare<{ to: number; keep: number }>(
        `DELETE FROM stored_dms WHERE id IN (
           SELECT d.id FROM stored_dms d
           WHERE d.to_id = @to AND EXISTS (SELECT 1 FROM stored_dm_acks a WHERE a.dm_id = d.id)
           ORDER BY d.id
           LIMIT MAX(0, (SELECT COUNT(*) FROM stored_dms WHERE to_id = @to) - @keep))`,
      ),
      /** Every envelope each of the recipient's devices has (after a device was revoked or forgotten). */
      deleteDelivered: db.prepare<{ to: number }>(
        `DELETE FROM stored_dms WHERE to_id = @to
           AND EXISTS (SELECT 1 FROM stored_dm_acks a WHERE a.dm_id = stored_dms.id)
           AND (SELECT COUNT(*) FROM stored_dm_acks a JOIN devices v ON v.user_id = @to AND v.device_id = a.device_id WHERE a.dm_id = stored_dms.id)
             >= (SELECT COUNT(*) FROM devices WHERE user_id = @to)`,
      ),
      pendingFor: db.prepare<[number, number, number, string, number], StoredDmRow>(
        `SELECT d.id, d.to_id, d.from_id, u.username AS from_name, d.envelope, d.created_at
         FROM stored_dms d JOIN users u ON u.id = d.from_id
         WHERE d.to_id = ? AND d.id > ? AND d.created_at >= ?
           AND NOT EXISTS (SELECT 1 FROM stored_dm_acks a WHERE a.dm_id = d.id AND a.device_id = ?)
         ORDER BY d.id LIMIT ?`,
      ),
      deviceAck: db.prepare<{ id: number; to: number; device: string }>(
        'INSERT OR IGNORE INTO stored_dm_acks (dm_id, device_id) SELECT id, @device FROM stored_dms WHERE id = @id AND to_id = @to',
      ),
      /** Deleted once every device the recipient has (devices) acknowledged it. */
      deleteIfAllHave: db.prepare<{ id: number; to: number }>(
        `DELETE FROM stored_dms WHERE id = @id AND to_id = @to
           AND (SELECT COUNT(*) FROM stored_dm_acks a JOIN devices v ON v.user_id = @to AND v.device_id = a.device_id WHERE a.dm_id = @id)
             >= (SELECT COUNT(*) FROM devices WHERE user_id = @to)`,
      ),
      ack: db.prepare<[number, number]>('DELETE FROM stored_dms WHERE id = ? AND to_id = ?'),
      deleteBetween: db.prepare<[number, number, number, number]>(
        'DELETE FROM stored_dms WHERE (from_id = ? AND to_id = ?) OR (from_id = ? AND to_id = ?)',
      ),
      expire: db.prepare<[number]>('DELETE FROM stored_dms WHERE created_at < ?'),
      total: db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM stored_dms'),
    };
    this.ackMany = db.transaction((ids: readonly number[], toId: number, deviceId: string | null) => {
      let n = 0;
      for (const id of ids) {
        if (deviceId === null) {
          n += this.q.ack.run(id, toId).changes;
          continue;
        }
        this.q.deviceAck.run({ id, to: toId, device: deviceId });
        n += this.q.deleteIfAllHave.run({ id, to: toId }).changes;
      }
      return n;
    });
  }

  private readonly ackMany: (ids: readonly number[], toId: number, deviceId: string | null) => number;

  keysOf(userId: number): PublicIdentity | undefined {
    const r = this.q.getKeys.get(userId);
    return r && { keyId: r.key_id, boxPublicKey: r.box_pk, signPublicKey: r.sign_pk, signature: r.signature };
  }

  putKeys(userId: number, id: PublicIdentity, now: number): void {
    this.q.putKeys.run(userId, id.keyId, id.boxPublicKey, id.signPublicKey, id.signature, now);
  }

  // ---------- the sealed identity (opened only by its user's devices) ----------

  backupOf(userId: number): IdentityBackup | null {
    const r = this.q.getBackup.get(userId);
    return r ? { v: 1, keyId: r.key_id, wrap: r.wrap, sealed: r.sealed } : null;
  }

  putBackup(userId: number, backup: IdentityBackup, now: number): void {
    this.q.putBackup.run(userId, backup.keyId, backup.wrap, backup.sealed, now);
  }

  /** Seals the kept backup's key anew (a password change); false when the kept one is not `keyId`'s. */
  rewrapBackup(userId: number, keyId: string, wrap: string, now: number): boolean {
    return this.q.rewrapBackup.run(wrap, now, userId, keyId).changes === 1;
  }

  deleteBackup(userId: number): boolean {
    return this.q.deleteBackup.run(userId).changes === 1;
  }

  /**
   * Keeps an envelope for the recipient's devices; past `keepAtMost` for them, the oldest that one
   * of their devices already has make room (a device long away then misses those, never a DM no
   * device has).
   */
  store(toId: number, fromId: number, envelope: string, now: number, keepAtMost = Number.MAX_SAFE_INTEGER): number {
    const id = Number(this.q.insert.run(toId, fromId, envelope, now).lastInsertRowid);
    this.q.trim.run({ to: toId, keep: keepAtMost });
    return id;
  }

  /** Deletes what each of the user's remaining devices has (a device was revoked or forgotten). */
  deleteDelivered(toId: number): number {
    return this.q.deleteDelivered.run({ to: toId }).changes;
  }

  /** Envelopes waiting for the recipient that none of their devices has yet (what STORE_FULL counts). */
  countFor(toId: number): number {
    return this.q.countFor.get(toId)?.n ?? 0;
  }

  /**
   * The recipient's envelopes after `afterId`, oldest first, skipping any past their age limit
   * and those this device (if it said which it is) already has.
   */
  pendingFor(toId: number, afterId: number, notBefore: number, limit: number, deviceId: string | null = null): StoredDmRow[] {
    return this.q.pendingFor.all(toId, afterId, notBefore, deviceId ?? '', limit);
  }

  /**
   * The recipient's device has these envelopes: each is deleted once all the recipient's devices
   * have it (at once for a connection that named no device). Returns how many were deleted.
   */
  ack(ids: readonly number[], toId: number, deviceId: string | null = null): number {
    return this.ackMany(ids, toId, deviceId);
  }

  deleteBetween(a: number, b: number): void {
    this.q.deleteBetween.run(a, b, b, a);
  }

  expire(olderThan: number): number {
    return this.q.expire.run(olderThan).changes;
  }

  total(): number {
    return this.q.total.get()?.n ?? 0;
  }
}
