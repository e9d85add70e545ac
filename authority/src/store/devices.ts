import type Database from 'better-sqlite3';

export interface DeviceRow {
  user_id: number;
  device_id: string;
  name: string;
  created_at: number;
  last_seen: number;
}

/** A user's devices (issue 13 §2): what each DM engine says it is at its session start. */
export class DeviceRepo {
  private readonly q;

  constructor(db: Database.Database) {
    this.q = {
      upsert: db.prepare<[number, string, string, number, number]>(
        `INSERT INTO devices (user_id, device_id, name, created_at, last_seen) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (user_id, device_id) DO UPDATE SET name = excluded.name, last_seen = excluded.last_seen`,
      ),
      get: db.prepare<[number, string], DeviceRow>('SELECT * FROM devices WHERE user_id = ? AND device_id = ?'),
      of: db.prepare<[number], DeviceRow>('SELECT * FROM devices WHERE user_id = ? ORDER BY last_seen DESC, device_id'),
      count: db.prepare<[number], { n: number }>('SELECT COUNT(*) AS n FROM devices WHERE user_id = ?'),
      remove: db.prepare<[number, string]>('DELETE FROM devices WHERE user_id = ? AND device_id = ?'),
      linkSession: db.prepare<[string, string, number]>('UPDATE sessions SET device_id = ? WHERE token_hash = ? AND user_id = ?'),
      deleteSessions: db.prepare<[number, string]>('DELETE FROM sessions WHERE user_id = ? AND device_id = ?'),
      forget: db.prepare<[number]>('DELETE FROM devices WHERE last_seen < ?'),
    };
  }

  get(userId: number, deviceId: string): DeviceRow | undefined {
    return this.q.get.get(userId, deviceId);
  }

  of(userId: number): DeviceRow[] {
    return this.q.of.all(userId);
  }

  count(userId: number): number {
    return this.q.count.get(userId)?.n ?? 0;
  }

  /** Records the device as seen now, and the session it uses as its own. */
  seen(userId: number, deviceId: string, name: string, tokenHash: string | null, now: number): void {
    this.q.upsert.run(userId, deviceId, name, now, now);
    if (tokenHash) this.q.linkSession.run(deviceId, tokenHash, userId);
  }

  /** Forgets the device and ends its sessions; true when it was known. */
  revoke(userId: number, deviceId: string): boolean {
    this.q.deleteSessions.run(userId, deviceId);
    return this.q.remove.run(userId, deviceId).changes === 1;
  }

  /** Devices not seen since `before` are forgotten (nothing stored waits for them any more). */
  forgetUnseen(before: number): number {
    return this.q.forget.run(before).changes;
  }
}
