/**
 * Look-alike usernames: someone registers `aIice` (capital i) or `rnallory` beside `alice` and
 * `mallory` to be taken for them. The authority refuses a name whose confusable skeleton
 * (Unicode TS #39) is an existing name's, at registration and at --create-admin, and fills the
 * skeleton of the accounts a database already had when it is upgraded.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nameSkeleton } from '../../authority/src/store/name-skeleton.js';
import { listMigrations } from '../../authority/src/store/migrations.js';
import { Store } from '../../authority/src/store/index.js';
import { createAdmin, ADMIN_PASSWORD_ENV } from '../../authority/src/admin/create-admin.js';
import { defaultConfig } from '../../authority/src/config.js';
import { newClient, PASSWORD, startAuthority, tempDir, TEST_SCRYPT, type TestAuthority } from '../helpers/authority.js';

let t: TestAuthority;
beforeAll(async () => {
  t = await startAuthority();
});
afterAll(async () => {
  await t.cleanup();
});

async function registerCode(name: string): Promise<string> {
  const c = newClient(t);
  try {
    const r = await c.register(name, PASSWORD);
    return r.ok ? 'ok' : `${r.error.code}: ${r.error.message}`;
  } finally {
    c.close();
  }
}

describe('the skeleton', () => {
  it('maps what TS #39 says looks alike in a username, and nothing else', () => {
    expect(nameSkeleton('aIice')).toBe(nameSkeleton('alice'));
    expect(nameSkeleton('a1ice')).toBe(nameSkeleton('alice'));
    expect(nameSkeleton('ALlCE')).toBe(nameSkeleton('ALICE')); // the same name in another case is USERNAME_TAKEN
    expect(nameSkeleton('rnallory')).toBe(nameSkeleton('mallory'));
    expect(nameSkeleton('Mallory')).toBe(nameSkeleton('rnallory'));
    expect(nameSkeleton('b0b')).toBe(nameSkeleton('bob'));
    expect(nameSkeleton('B0B')).toBe(nameSkeleton('bob'));
    for (const [a, b] of [
      ['alice', 'alicia'],
      ['alice', 'a.lice'],
      ['alice', 'aiice'], // a lower-case i has its dot
      ['bob', 'bob2'],
      ['jean-luc', 'jean_luc'],
    ]) {
      expect(nameSkeleton(a!), `${a} vs ${b}`).not.toBe(nameSkeleton(b!));
    }
  });
});

describe('registration', () => {
  it('refuses aIice, a1ice and rnallory beside alice and mallory, naming the account they look like', async () => {
    const tag = String(process.pid % 1000);
    expect(await registerCode(`alice${tag}`)).toBe('ok');
    expect(await registerCode(`mallory${tag}`)).toBe('ok');
    expect(await registerCode(`aIice${tag}`)).toBe(`USERNAME_LOOKALIKE: aIice${tag} looks too much like alice${tag}`);
    expect(await registerCode(`a1ice${tag}`)).toMatch(/^USERNAME_LOOKALIKE: /);
    expect(await registerCode(`rnallory${tag}`)).toMatch(/^USERNAME_LOOKALIKE: .* mallory/);
    expect(await registerCode(`ALICE${tag}`)).toMatch(/^USERNAME_TAKEN: /);
    expect(await registerCode(`alicia${tag}`)).toBe('ok');
    expect(t.authority.store.users.byName(`aIice${tag}`)).toBeUndefined();
  });

  it('refuses a look-alike from --create-admin too', async () => {
    const dir = tempDir();
    const previous = process.env[ADMIN_PASSWORD_ENV];
    process.env[ADMIN_PASSWORD_ENV] = PASSWORD;
    try {
      const config = defaultConfig({ dataDir: dir, scrypt: TEST_SCRYPT, quiet: true });
      expect(await createAdmin(config, 'boss_one')).toBe(0);
      expect(await createAdmin(config, 'boss_0ne')).toBe(1);
      const store = Store.openInDir(dir);
      expect(store.users.all().map((u) => u.username)).toEqual(['boss_one']);
      store.close();
    } finally {
      if (previous === undefined) delete process.env[ADMIN_PASSWORD_ENV];
      else process.env[ADMIN_PASSWORD_ENV] = previous;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('upgrading a database made before the check', () => {
  it('fills every skeleton, keeps look-alikes already there, and refuses a new one', () => {
    const dir = tempDir();
    try {
      const file = join(dir, 'old.db');
      const old = new Database(file);
      for (const step of listMigrations().slice(0, 4)) old.exec(readFileSync(step.file, 'utf8'));
      old.pragma('user_version = 4');
      const add = old.prepare('INSERT INTO users (username, pass_hash, is_admin, created_at) VALUES (?, ?, 0, 0)');
      for (const name of ['alice', 'aIice', 'mallory']) add.run(name, 'x');
      old.close();

      const store = new Store(file);
      expect(store.schemaVersion).toBeGreaterThanOrEqual(5);
      expect(store.users.all().map((u) => u.username).sort()).toEqual(['aIice', 'alice', 'mallory']);
      expect(store.users.lookalike('rnallory')?.username).toBe('mallory');
      expect(store.users.lookalike('a1ice')?.username).toMatch(/^a[Il]ice$/);
      expect(store.users.lookalike('bob')).toBeUndefined();
      store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
