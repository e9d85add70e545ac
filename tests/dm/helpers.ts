/**
 * DM test fixtures with real parts: users registered on a real authority, befriended, each
 * with a DM engine over real @roamhq/wrtc, real sql.js and key files in its own temp dir.
 */
import { rmSync } from 'node:fs';
import type { ChandlerClient } from '../../shared/client/index.js';
import type { DmEngine, DmEngineEvents, DmEngineOptions } from '../../shared/client/dm/index.js';
import { createNodeDmEngine } from '../../cli/dm/index.js';
import { newClient, PASSWORD, registered, tempDir, uniqueName, until, type TestAuthority } from '../helpers/authority.js';
import { LOADED_MS, SLOWDOWN } from '../helpers/timing.js';

/** The lowest scrypt work factor the sealed format accepts: the format and code path are the real ones. */
export const TEST_KDF_N = 1 << 10;
/**
 * Short enough to keep the suite fast (a relay-only pair waits it out), long enough for a loaded
 * 2-core machine to connect; it grows with the load.
 */
export const TEST_DIRECT_TIMEOUT_MS = Math.round(6000 * SLOWDOWN);

export interface DmUser {
  name: string;
  client: ChandlerClient;
  dm: DmEngine;
  dir: string;
  /** Every event the engine emitted, in order. */
  events: { [K in keyof DmEngineEvents]: DmEngineEvents[K][] };
}

const cleanups: (() => Promise<void> | void)[] = [];

export async function closeAll(): Promise<void> {
  for (const c of cleanups.splice(0).reverse()) await c();
}

export function engineFor(client: ChandlerClient, dir: string, options: Partial<DmEngineOptions> = {}): DmEngine {
  return createNodeDmEngine(client, { dir, kdfN: TEST_KDF_N, directTimeoutMs: TEST_DIRECT_TIMEOUT_MS, log: process.env.DM_DEBUG ? (e, f) => console.log(client.username, e, f) : undefined, ...options });
}

/** Records every event the engine emits, by name. */
export function record(dm: DmEngine): DmUser['events'] {
  const events: DmUser['events'] = {
    received: [],
    status: [],
    keyChanged: [],
    keyPinned: [],
    channel: [],
    rejected: [],
    identityCreated: [],
    keyLogAlarm: [],
    warning: [],
    historyProgress: [],
  };
  for (const name of Object.keys(events) as (keyof DmEngineEvents)[]) {
    dm.on(name, (e) => (events[name] as unknown[]).push(e));
  }
  return events;
}

/** Logs a client in (or registers it) and unlocks a DM engine over it. */
export async function dmUser(
  t: TestAuthority,
  options: { name?: string; dir?: string; register?: boolean; engine?: Partial<DmEngineOptions> } = {},
): Promise<DmUser> {
  const name = options.name ?? uniqueName('dm');
  const dir = options.dir ?? tempDir('chandler-dm-');
  let client: ChandlerClient;
  if (options.register === false) {
    client = newClient(t);
    const r = await client.login(name, PASSWORD);
    if (!r.ok) throw new Error(`login ${name} failed: ${r.error.code}`);
  } else {
    client = await registered(t, name);
  }
  const dm = engineFor(client, dir, options.engine);
  const events = record(dm);
  const unlocked = await dm.unlock(PASSWORD);
  if (!unlocked.ok) throw new Error(`unlock ${name} failed: ${unlocked.error.code} ${unlocked.error.message}`);
  const user: DmUser = { name, client, dm, dir, events };
  // Run in reverse: the engine closes (saving its history) before its directory goes.
  if (!options.dir) cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanups.push(async () => {
    await dm.close();
    client.close();
  });
  return user;
}

/** Ends a user's session and engine (the files stay, as on a real device). */
export async function goOffline(u: DmUser): Promise<void> {
  await u.dm.close();
  u.client.close();
}

export async function befriend(a: DmUser, b: DmUser): Promise<void> {
  const asked = await a.client.call('requestFriend', { username: b.name });
  if (!asked.ok) throw new Error(`requestFriend failed: ${asked.error.code}`);
  const accepted = await b.client.call('acceptFriend', { username: a.name });
  if (!accepted.ok) throw new Error(`acceptFriend failed: ${accepted.error.code}`);
  const isFriend = (c: ChandlerClient, other: string) => c.friends.some((f) => f.username === other && f.state === 'friends');
  await until(() => isFriend(a.client, b.name) && isFriend(b.client, a.name), 'friendship seen by both');
  // Both pin each other's key on first use as soon as they hear of the friendship.
  await until(
    () => a.events.keyPinned.some((e) => e.username === b.name) && b.events.keyPinned.some((e) => e.username === a.name),
    'keys pinned on both sides',
  );
}

/** Two friends, each with an unlocked engine. `first` sorts before `second`, so `first` initiates channels. */
export async function friends(
  t: TestAuthority,
  options: { first?: Partial<DmEngineOptions>; second?: Partial<DmEngineOptions> } = {},
): Promise<[DmUser, DmUser]> {
  const base = uniqueName('pair');
  const a = await dmUser(t, { name: `${base}a`, engine: options.first });
  const b = await dmUser(t, { name: `${base}b`, engine: options.second });
  await befriend(a, b);
  return [a, b];
}

/** Waits for `who` to have received a DM with this text. */
export async function receivedText(who: DmUser, text: string, timeoutMs = LOADED_MS) {
  await until(() => who.events.received.some((r) => r.text === text), `${who.name} receives "${text}"`, timeoutMs);
  return who.events.received.find((r) => r.text === text)!;
}
