/**
 * Schema versions: db/template.sql is version 1; db/migrations/NNN_name.sql bring it to NNN.
 * PRAGMA user_version records the version applied; each step runs in its own transaction.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type Database from 'better-sqlite3';

const DB_DIR = join(import.meta.dirname, '..', '..', '..', 'db');
const MIGRATION_FILE = /^(\d{3})_[a-z0-9_]+\.sql$/;

export interface Migration {
  version: number;
  file: string;
}

export function listMigrations(): Migration[] {
  const steps: Migration[] = [{ version: 1, file: join(DB_DIR, 'template.sql') }];
  for (const name of readdirSync(join(DB_DIR, 'migrations')).sort()) {
    const m = MIGRATION_FILE.exec(name);
    if (!m) continue;
    steps.push({ version: Number(m[1]), file: join(DB_DIR, 'migrations', name) });
  }
  steps.forEach((s, i) => {
    if (s.version !== i + 1) throw new Error(`migration numbering gap at ${s.file}`);
  });
  return steps;
}

export function migrate(db: Database.Database): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  const steps = listMigrations();
  const latest = steps.length;
  if (current > latest) {
    throw new Error(`database schema version ${current} is newer than this authority (${latest})`);
  }
  for (const step of steps.slice(current)) {
    const sql = readFileSync(step.file, 'utf8');
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${step.version}`);
    })();
  }
  return latest;
}
