/**
 * The authority's OPAQUE secret (RFC 9807's server setup: the OPRF seed and the server's key
 * pair), in its own file of the data dir, owner-only, never in the database: a copy of the
 * database or of a backup alone allows no offline guessing of passwords; with this file too, a
 * guess costs one run of the clients' key stretching (Argon2id).
 *
 * Losing the file locks every account out (their records need it): the authority then refuses
 * to start rather than make a new one, and says how to recover (restore the file, or reset the
 * passwords). A new file is made only for a data dir without any OPAQUE record.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import * as opaque from '@serenity-kit/opaque';

export const OPAQUE_SETUP_FILE = 'opaque-setup.key';
const SECRET_FILE_MODE = 0o600;
/** A serialized setup is 171 base64url characters; anything far from it is not one. */
const SETUP_PATTERN = /^[A-Za-z0-9_-]{100,400}$/;

export class OpaqueSetupMissing extends Error {}

/** Reads the setup, or (a data dir with no record yet) null; throws OpaqueSetupMissing when records exist without it. */
export function opaqueSetupFile(dataDir: string, records: number): { file: string; setup: string | null } {
  const file = join(dataDir, OPAQUE_SETUP_FILE);
  if (existsSync(file)) {
    const setup = readFileSync(file, 'utf8').trim();
    if (!SETUP_PATTERN.test(setup)) throw new OpaqueSetupMissing(`${file} is damaged: ${records} account(s) cannot log in. Restore it from where it was kept.`);
    return { file, setup };
  }
  if (records > 0) {
    throw new OpaqueSetupMissing(`${file} is missing, and ${records} account(s) need it to log in. Restore it from where it was kept (a copy of the data directory).`);
  }
  return { file, setup: null };
}

/** Makes a new setup and writes it (0600, never overwriting another). */
export async function createOpaqueSetup(file: string): Promise<string> {
  await opaque.ready;
  const setup = opaque.server.createSetup();
  const fd = openSync(file, 'wx', SECRET_FILE_MODE);
  try {
    writeSync(fd, `${setup}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return setup;
}

/** The data dir's setup, made when it has none and no account needs one; throws OpaqueSetupMissing at once. */
export function loadOpaqueSetup(dataDir: string, records: number): Promise<string> {
  const found = opaqueSetupFile(dataDir, records);
  return found.setup !== null ? Promise.resolve(found.setup) : createOpaqueSetup(found.file);
}
