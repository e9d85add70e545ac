/**
 * Test fixtures with real parts: an authority on port 0 with TLS and a temp data dir,
 * and headless clients that pin its certificate.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Authority } from '../../authority/src/server.js';
import { defaultConfig, type AuthorityConfig } from '../../authority/src/config.js';
import { Logger } from '../../authority/src/log.js';
import { ChandlerClient } from '../../shared/client/index.js';
import { pinnedSocketFactory } from '../../cli/node-socket.js';
import { LOADED_MS } from './timing.js';

export const PASSWORD = 'correct-horse-battery!';

/** Cheaper scrypt for tests that make many accounts; the format and code path are the same. */
export const TEST_SCRYPT = { N: 1 << 12, r: 8, p: 1 };
/** Cheaper key stretching inside OPAQUE (1 MiB, one pass: a few ms) for the same reason. */
export const TEST_KSF = { iterations: 1, memory: 1024, parallelism: 1 };
/**
 * The login of an account written straight into the store by a test: a record of the right size
 * that no password opens (its envelope is zeros), for accounts that are only listed, never logged in.
 */
export const NO_LOGIN = { record: Buffer.alloc(192).toString('base64url'), ksf: JSON.stringify(TEST_KSF) };

export interface TestAuthority {
  authority: Authority;
  url: string;
  fingerprint: string | null;
  spkiHash: string | null;
  dataDir: string;
  config: AuthorityConfig;
  logs: string[];
  stop(): Promise<void>;
  /** Stops (gracefully) and starts a new authority on the same data dir and port. */
  restart(): Promise<TestAuthority>;
  cleanup(): Promise<void>;
}

export function tempDir(prefix = 'chandler-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export type AuthorityOverrides = Omit<Partial<AuthorityConfig>, 'limits'> & {
  limits?: Partial<AuthorityConfig['limits']>;
};

export async function startAuthority(
  overrides: AuthorityOverrides = {},
  dataDir = tempDir(),
): Promise<TestAuthority> {
  const base = defaultConfig();
  const config = defaultConfig({
    host: '127.0.0.1',
    port: 0,
    dataDir,
    scrypt: TEST_SCRYPT,
    opaqueKsf: TEST_KSF,
    hashWorkers: 1,
    ...overrides,
    // Every test client comes from 127.0.0.1 unless it says otherwise: the per-address limits of a
    // whole office are not what most tests are about (those that are set them).
    limits: {
      ...base.limits,
      registrationsPerIp: 10_000,
      loginFailuresPerIp: 10_000,
      newSocketsPerSecondPerIp: 10_000,
      newSocketBurstPerIp: 10_000,
      ...overrides.limits,
    },
  });
  const logs: string[] = [];
  const log = new Logger();
  log.setSink((line) => logs.push(line));
  const authority = new Authority(config, log);
  const started = await authority.start();
  const t: TestAuthority = {
    authority,
    url: started.url,
    fingerprint: started.fingerprint,
    spkiHash: started.spkiHash,
    dataDir,
    config,
    logs,
    stop: () => authority.stop('test stop'),
    restart: async () => {
      await authority.stop('test restart');
      return startAuthority({ ...overrides, port: started.port }, dataDir);
    },
    cleanup: async () => {
      await authority.stop('test end');
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return t;
}

export function newClient(
  t: { url: string; fingerprint: string | null },
  extra: { reconnectMs?: number; localAddress?: string } = {},
): ChandlerClient {
  return new ChandlerClient({
    url: t.url,
    // A distinct loopback source (127.0.0.2, …) keeps bans and per-address limits of one test client off the others.
    socketFactory: pinnedSocketFactory({ fingerprint: t.fingerprint, localAddress: extra.localAddress }),
    clientVersion: 'test/1',
    reconnect: { initialMs: extra.reconnectMs ?? 50, maxMs: 500 },
    // A reply may take longer than the core's 15 s on a loaded machine (a login hashes with
    // real scrypt at low priority in an authority process).
    requestTimeoutMs: LOADED_MS,
  });
}

let userCounter = 0;

/** A unique valid username for this test run. */
export function uniqueName(prefix = 'user'): string {
  userCounter++;
  return `${prefix}${process.pid % 1000}_${userCounter}`;
}

export async function registered(t: TestAuthority, name = uniqueName()): Promise<ChandlerClient> {
  const c = newClient(t);
  const r = await c.register(name, PASSWORD);
  if (!r.ok) throw new Error(`register ${name} failed: ${r.error.code}`);
  return c;
}

/** Makes an admin account directly in the store (the way --create-admin does), then logs it in. */
export async function adminClient(t: TestAuthority, name = uniqueName('admin')): Promise<ChandlerClient> {
  const c = await registered(t, name);
  const row = t.authority.store.users.byName(name)!;
  t.authority.store.users.setAdmin(row.id, true);
  c.close();
  const again = newClient(t);
  const r = await again.login(name, PASSWORD);
  if (!r.ok) throw new Error(`admin login failed: ${r.error.code}`);
  return again;
}

/** Waits until the predicate holds, polling; fails with the label after the timeout (by default: what a loaded machine may take). */
export async function until(predicate: () => boolean, label: string, timeoutMs = LOADED_MS): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for: ${label}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * The positive signal for "this client did not reconnect": `control` (logged in on `t`, with the
 * same backoff) is cut by the server the ordinary way and waited for until it is back. A client
 * that were going to reconnect would have tried by then, however slow the machine.
 */
export async function reconnectedAfterCut(t: TestAuthority, control: ChandlerClient): Promise<void> {
  let cut = false;
  let back = false;
  const off = control.on('status', (s) => {
    if (s !== 'ready') cut = true;
    else if (cut) back = true;
  });
  try {
    const id = t.authority.store.users.byName(control.username!)!.id;
    for (const conn of t.authority.hub.connectionsOf(id)) conn.ws.terminate();
    await until(() => back, 'a client cut by the server is back');
  } finally {
    off();
  }
}
