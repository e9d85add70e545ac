/**
 * `npm start -- --data DIR --create-admin NAME`: the way the first admin is made. Both halves
 * of the OPAQUE registration run here, in one process: the password is typed on the server's
 * terminal, but only the record is stored, as for any other account.
 */
import { stderr, stdout } from 'node:process';
import * as opaque from '@serenity-kit/opaque';
import { finishRegistration, startRegistration } from '../../../shared/crypto/opaque.js';
import { passwordPolicyError } from '../../../shared/password-policy.js';
import type { AuthorityConfig } from '../config.js';
import { opaqueIdentifier, validUsername } from '../accounts-policy.js';
import { nameTaken } from '../handlers/accounts.js';
import { loadOpaqueSetup } from '../opaque-setup.js';
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
    const weak = await passwordPolicyError(password, config, username);
    if (weak) {
      stderr.write(`error WEAK_PASSWORD (${weak.reason}): ${weak.message}\n`);
      return 1;
    }
    const serverSetup = await loadOpaqueSetup(config.dataDir, store.users.loginCounts().opaque);
    const started = await startRegistration(password);
    const { registrationResponse } = opaque.server.createRegistrationResponse({
      serverSetup,
      userIdentifier: opaqueIdentifier(username),
      registrationRequest: started.request,
    });
    const finished = await finishRegistration(started, registrationResponse, password, config.opaqueKsf);
    if (!finished) throw new Error('the OPAQUE registration did not finish'); // both halves are ours: a bug
    const login = { record: finished.record, ksf: JSON.stringify(config.opaqueKsf) };
    const now = Date.now();
    store.transaction(() => {
      const user = store.users.create(username, login, true, now);
      const general = store.rooms.byName(DEFAULT_ROOM);
      if (general) store.rooms.addMember(user.id, general.id, now);
    });
    stdout.write(`admin ${username} created in ${config.dataDir}\n`);
    return 0;
  } finally {
    releaseInput();
    store.close();
  }
}
