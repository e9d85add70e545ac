/** `npm start -- --data DIR --create-admin NAME`: the way the first admin is made. */
import { stderr, stdout } from 'node:process';
import type { AuthorityConfig } from '../config.js';
import { passwordPolicyError, validUsername } from '../accounts-policy.js';
import { nameTaken } from '../handlers/accounts.js';
import { PasswordPool } from '../passwords.js';
import { Store } from '../store/index.js';
import { DEFAULT_ROOM } from '../store/rooms.js';
import { readSecret, releaseInput } from '../../../terminal/prompt.js';

export const ADMIN_PASSWORD_ENV = 'CHANDLER_ADMIN_PASSWORD';

export async function createAdmin(config: AuthorityConfig, rawName: string): Promise<number> {
  const username = rawName.normalize('NFC');
  if (!validUsername(username)) {
    stderr.write('error INVALID_USERNAME: usernames are 3 to 32 characters: letters, digits, dot, underscore or hyphen\n');
    return 1;
  }
  const store = Store.openInDir(config.dataDir);
  // Made when a password is to be hashed, not before: a refusal never starts a worker.
  let pool: PasswordPool | null = null;
  try {
    const taken = nameTaken({ store }, username);
    if (taken) {
      const why = taken.error.code === 'USERNAME_TAKEN' ? `${username} exists already (use /make_admin on the console)` : taken.error.message;
      stderr.write(`error ${taken.error.code}: ${why}\n`);
      return 1;
    }
    let password = process.env[ADMIN_PASSWORD_ENV];
    if (password === undefined) {
      try {
        password = await readSecret(`Password for ${username}: `);
        const again = await readSecret('Again: ');
        if (again !== password) {
          stderr.write('error: the two passwords differ\n');
          return 1;
        }
      } catch {
        stderr.write(`error: no password given (type it at the prompt, or set ${ADMIN_PASSWORD_ENV})\n`);
        return 1;
      }
    }
    const weak = passwordPolicyError(password, config, username);
    if (weak) {
      stderr.write(`error WEAK_PASSWORD (${weak.reason}): ${weak.message}\n`);
      return 1;
    }
    pool = new PasswordPool(1, config.scrypt);
    const hashed = await pool.hash(password, 'create-admin');
    if (!hashed.ok) {
      stderr.write('error BUSY: the password workers are busy, try again\n');
      return 1;
    }
    const hash = hashed.value;
    const now = Date.now();
    store.transaction(() => {
      const user = store.users.create(username, hash, true, now);
      const general = store.rooms.byName(DEFAULT_ROOM);
      if (general) store.rooms.addMember(user.id, general.id, now);
    });
    stdout.write(`admin ${username} created in ${config.dataDir}\n`);
    return 0;
  } finally {
    releaseInput();
    await pool?.close();
    store.close();
  }
}
