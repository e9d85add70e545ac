import type Database from 'better-sqlite3';
import { nameSkeleton } from './name-skeleton.js';

export interface UserRow {
  id: number;
  username: string;
  pass_hash: string;
  is_admin: number;
  must_change_password: number;
  created_at: number;
  banned_at: number | null;
  ban_reason: string | null;
  kicked_until: number | null;
  /** The OPAQUE registration record (null: not migrated yet, or reset by an admin). */
  opaque_record: string | null;
  /** JSON of the key stretching the record was made with (OpaqueKsf). */
  opaque_ksf: string | null;
  /** SHA-256 (hex) of an admin's one-time reset code, and until when it holds. */
  reset_code_hash: string | null;
  reset_expires: number | null;
}

export interface SessionRow {
  token_hash: string;
  user_id: number;
  created_at: number;
  last_seen: number;
}

export class UserRepo {
  private readonly q;

  constructor(private readonly db: Database.Database) {
    this.q = {
      byName: db.prepare<[string], UserRow>('SELECT * FROM users WHERE username = ?'),
      bySkeleton: db.prepare<[string], UserRow>('SELECT * FROM users WHERE name_skeleton = ? LIMIT 1'),
      byId: db.prepare<[number], UserRow>('SELECT * FROM users WHERE id = ?'),
      all: db.prepare<[], UserRow>('SELECT * FROM users ORDER BY username'),
      insert: db.prepare<[string, string, string, number, number, string]>(
        `INSERT INTO users (username, pass_hash, opaque_record, opaque_ksf, is_admin, created_at, name_skeleton)
         VALUES (?, '', ?, ?, ?, ?, ?)`,
      ),
      setRecord: db.prepare<[string, string, number, number]>(
        `UPDATE users SET opaque_record = ?, opaque_ksf = ?, pass_hash = '', must_change_password = ?,
           reset_code_hash = NULL, reset_expires = NULL WHERE id = ?`,
      ),
      setResetCode: db.prepare<[string, number, number]>(
        `UPDATE users SET opaque_record = NULL, opaque_ksf = NULL, pass_hash = '', reset_code_hash = ?, reset_expires = ?
         WHERE id = ?`,
      ),
      legacyCount: db.prepare<[], { n: number }>("SELECT count(*) AS n FROM users WHERE pass_hash != ''"),
      recordCount: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM users WHERE opaque_record IS NOT NULL'),
      setAdmin: db.prepare<[number, number]>('UPDATE users SET is_admin = ? WHERE id = ?'),
      ban: db.prepare<[number, string | null, number]>('UPDATE users SET banned_at = ?, ban_reason = ? WHERE id = ?'),
      unban: db.prepare<[number]>('UPDATE users SET banned_at = NULL, ban_reason = NULL WHERE id = ?'),
      kick: db.prepare<[number | null, number]>('UPDATE users SET kicked_until = ? WHERE id = ?'),
      admins: db.prepare<[], UserRow>('SELECT * FROM users WHERE is_admin = 1'),
      insertSession: db.prepare<[string, number, number, number]>(
        'INSERT INTO sessions (token_hash, user_id, created_at, last_seen) VALUES (?, ?, ?, ?)',
      ),
      session: db.prepare<[string], SessionRow>('SELECT * FROM sessions WHERE token_hash = ?'),
      touchSession: db.prepare<[number, string]>('UPDATE sessions SET last_seen = ? WHERE token_hash = ?'),
      deleteSession: db.prepare<[string]>('DELETE FROM sessions WHERE token_hash = ?'),
      deleteUserSessions: db.prepare<[number]>('DELETE FROM sessions WHERE user_id = ?'),
      expireSessions: db.prepare<[number]>('DELETE FROM sessions WHERE last_seen < ?'),
      recordIp: db.prepare<[number, string, number]>(
        'INSERT INTO user_ips (user_id, ip, last_seen) VALUES (?, ?, ?) ON CONFLICT (user_id, ip) DO UPDATE SET last_seen = excluded.last_seen',
      ),
      userIps: db.prepare<[number], { ip: string }>('SELECT ip FROM user_ips WHERE user_id = ?'),
      othersOnIp: db.prepare<[string, number, number], { username: string; last_seen: number }>(
        `SELECT u.username, i.last_seen FROM user_ips i JOIN users u ON u.id = i.user_id
         WHERE i.ip = ? AND i.user_id != ? AND i.last_seen >= ? ORDER BY i.last_seen DESC`,
      ),
      banIp: db.prepare<[string, number | null, number]>(
        'INSERT OR IGNORE INTO ip_bans (ip, user_id, created_at) VALUES (?, ?, ?)',
      ),
      unbanIps: db.prepare<[number]>('DELETE FROM ip_bans WHERE user_id = ?'),
      ipBanned: db.prepare<[string], { ip: string }>('SELECT ip FROM ip_bans WHERE ip = ?'),
      ipBans: db.prepare<[], { ip: string; username: string | null; created_at: number }>(
        'SELECT b.ip, u.username, b.created_at FROM ip_bans b LEFT JOIN users u ON u.id = b.user_id ORDER BY b.created_at',
      ),
      unbanIp: db.prepare<[string]>('DELETE FROM ip_bans WHERE ip = ?'),
    };
  }

  byName(username: string): UserRow | undefined {
    return this.q.byName.get(username);
  }

  byId(id: number): UserRow | undefined {
    return this.q.byId.get(id);
  }

  all(): UserRow[] {
    return this.q.all.all();
  }

  admins(): UserRow[] {
    return this.q.admins.all();
  }

  /**
   * The account whose name looks like this one (store/name-skeleton.ts): `aIice` or `a1ice`
   * for `alice`; undefined when none. (The same name in another case is byName's.)
   */
  lookalike(username: string): UserRow | undefined {
    return this.q.bySkeleton.get(nameSkeleton(username));
  }

  /** Creates the user with its OPAQUE record; the caller checked byName and lookalike in the same turn. */
  create(username: string, login: { record: string; ksf: string }, admin: boolean, now: number): UserRow {
    const info = this.q.insert.run(username, login.record, login.ksf, admin ? 1 : 0, now, nameSkeleton(username));
    const row = this.q.byId.get(Number(info.lastInsertRowid));
    if (!row) throw new Error('user vanished after insert');
    return row;
  }

  /**
   * A new OPAQUE record (a password changed, an account migrated or reset): the scrypt hash of
   * before and a reset code are gone with the old password. `mustChange`: an account that
   * migrates with a one-time password an admin set before OPAQUE must still replace it.
   */
  setRecord(userId: number, login: { record: string; ksf: string }, mustChange: boolean): void {
    this.q.setRecord.run(login.record, login.ksf, mustChange ? 1 : 0, userId);
  }

  /** An admin's reset: no password opens the account any more, only the code (its hash) until `expires`. */
  setResetCode(userId: number, codeHash: string, expires: number): void {
    this.q.setResetCode.run(codeHash, expires, userId);
  }

  /** Accounts that still have a scrypt hash (not logged in since OPAQUE), and accounts with a record. */
  loginCounts(): { legacy: number; opaque: number } {
    return { legacy: this.q.legacyCount.get()!.n, opaque: this.q.recordCount.get()!.n };
  }

  setAdmin(userId: number, admin: boolean): void {
    this.q.setAdmin.run(admin ? 1 : 0, userId);
  }

  /**
   * Bans the account and the addresses given (default: every address it used, the seed's rule).
   * Returns the addresses banned.
   */
  ban(userId: number, reason: string | null, now: number, only?: readonly string[]): string[] {
    return this.db.transaction(() => {
      this.q.ban.run(now, reason, userId);
      const ips = only ? [...only] : this.q.userIps.all(userId).map((r) => r.ip);
      for (const ip of ips) this.q.banIp.run(ip, userId, now);
      return ips;
    })();
  }

  unban(userId: number): void {
    this.db.transaction(() => {
      this.q.unban.run(userId);
      this.q.unbanIps.run(userId);
    })();
  }

  kick(userId: number, until: number | null): void {
    this.q.kick.run(until, userId);
  }

  isIpBanned(ip: string): boolean {
    return this.q.ipBanned.get(ip) !== undefined;
  }

  /** Every banned address, with the account it was banned for (null once that account is erased). */
  ipBans(): { ip: string; username: string | null; created_at: number }[] {
    return this.q.ipBans.all();
  }

  /** Lifts one address ban (an erased account's bans can only be lifted this way). */
  unbanIp(ip: string): boolean {
    return this.q.unbanIp.run(ip).changes > 0;
  }

  recordIp(userId: number, ip: string, now: number): void {
    this.q.recordIp.run(userId, ip, now);
  }

  /** The other accounts seen on an address since `since`, most recent first. */
  othersOnIp(ip: string, userId: number, since: number): { username: string; last_seen: number }[] {
    return this.q.othersOnIp.all(ip, userId, since);
  }

  ipsOf(userId: number): string[] {
    return this.q.userIps.all(userId).map((r) => r.ip);
  }

  createSession(tokenHash: string, userId: number, now: number): void {
    this.q.insertSession.run(tokenHash, userId, now, now);
  }

  session(tokenHash: string): SessionRow | undefined {
    return this.q.session.get(tokenHash);
  }

  touchSession(tokenHash: string, now: number): void {
    this.q.touchSession.run(now, tokenHash);
  }

  deleteSession(tokenHash: string): void {
    this.q.deleteSession.run(tokenHash);
  }

  deleteSessionsOf(userId: number): void {
    this.q.deleteUserSessions.run(userId);
  }

  expireSessions(idleBefore: number): number {
    return this.q.expireSessions.run(idleBefore).changes;
  }
}
