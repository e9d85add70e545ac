/**
 * Child process: one side of several DM pairs. Each user is a real client core (ChandlerClient)
 * with a real DM engine (cli/dm: sql.js history, key files, WebRTC from @roamhq/wrtc), so the
 * figures cover the whole path: sealing, the data channel, opening, history and receipts.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChandlerClient } from '../../shared/client/index.js';
import type { DmEngine } from '../../shared/client/dm/index.js';
import { createNodeDmEngine } from '../../cli/dm/index.js';
import { pinnedSocketFactory } from '../../cli/node-socket.js';
import { nowUs } from '../clock.js';
import { serve } from '../ipc.js';

/** The lowest work factor the sealed identity format accepts: the format and code are the real ones. */
const BENCH_KDF_N = 1 << 10;
const DIRECT_TIMEOUT_MS = 10_000;
const WAIT_MS = 60_000;

interface User {
  client: ChandlerClient;
  dm: DmEngine;
  dir: string;
  received: number;
  firstAtUs: number;
  lastAtUs: number;
}

const users = new Map<string, User>();
const root = mkdtempSync(join(tmpdir(), 'chandler-bench-dm-'));

function user(name: string): User {
  const u = users.get(name);
  if (!u) throw new Error(`no user ${name} in this process`);
  return u;
}

async function until(pred: () => boolean, label: string, timeoutMs = WAIT_MS): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out: ${label}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

async function login(b: { url: string; fingerprint: string | null; username: string; password: string }) {
  const client = new ChandlerClient({ url: b.url, socketFactory: pinnedSocketFactory({ fingerprint: b.fingerprint }), clientVersion: 'bench/1' });
  const r = await client.login(b.username, b.password);
  if (!r.ok) throw new Error(`login ${b.username}: ${r.error.code}`);
  const dir = join(root, b.username);
  const dm = createNodeDmEngine(client, { dir, kdfN: BENCH_KDF_N, directTimeoutMs: DIRECT_TIMEOUT_MS });
  const u: User = { client, dm, dir, received: 0, firstAtUs: 0, lastAtUs: 0 };
  dm.on('received', () => {
    const t = nowUs();
    if (u.received++ === 0) u.firstAtUs = t;
    u.lastAtUs = t;
  });
  const unlocked = await dm.unlock(b.password);
  if (!unlocked.ok) throw new Error(`unlock ${b.username}: ${unlocked.error.code}`);
  users.set(b.username, u);
  return {};
}

async function befriend(b: { username: string; friend: string; accept: boolean }) {
  const u = user(b.username);
  const r = await u.client.call(b.accept ? 'acceptFriend' : 'requestFriend', { username: b.friend });
  if (!r.ok) throw new Error(`${b.accept ? 'acceptFriend' : 'requestFriend'}: ${r.error.code}`);
  return {};
}

/** Waits until this user is friends with `friend`, sees them online, and has pinned their key. */
async function ready(b: { username: string; friend: string }) {
  const u = user(b.username);
  await until(() => u.client.friends.some((f) => f.username === b.friend && f.state === 'friends' && f.online), 'friend online');
  const pinned = await u.dm.safetyNumber(b.friend);
  if (!pinned.ok) throw new Error(`key of ${b.friend}: ${pinned.error.code}`);
  return {};
}

/** First DM to a friend with no channel yet: time until the data channel is open, and the path it took. */
async function setup(b: { username: string; friend: string }) {
  const u = user(b.username);
  const t0 = nowUs();
  let openedUs = 0;
  const off = u.dm.on('channel', (c) => {
    if (c.username === b.friend && c.state === 'open' && !openedUs) openedUs = nowUs();
  });
  const sent = await u.dm.send(b.friend, 'hello: the first direct message');
  off();
  if (!sent.ok) throw new Error(`send: ${sent.error.code}`);
  return { setupMs: openedUs ? (openedUs - t0) / 1000 : null, path: sent.value.path, sentMs: (nowUs() - t0) / 1000 };
}

/**
 * Sends up to `count` DMs of `bytes` characters as fast as the engine takes them, keeping
 * `window` in flight, and stops starting new ones after `maxMs`: how many went is returned.
 */
async function burst(b: { username: string; friend: string; count: number; bytes: number; window: number; maxMs: number; profileDir?: string }) {
  const u = user(b.username);
  await startProfile(b.profileDir);
  const pad = 'x'.repeat(b.bytes);
  const cpu0 = process.cpuUsage();
  const t0 = nowUs();
  const deadline = t0 + b.maxMs * 1000;
  const paths: Record<string, number> = {};
  let failed = 0;
  let started = 0;
  const lane = async () => {
    while (started < b.count && nowUs() < deadline) {
      const r = await u.dm.send(b.friend, `${started++} ${pad}`.slice(0, b.bytes));
      if (r.ok) paths[r.value.path ?? 'none'] = (paths[r.value.path ?? 'none'] ?? 0) + 1;
      else failed++;
    }
  };
  await Promise.all(Array.from({ length: b.window }, lane));
  const sentUs = nowUs();
  const share = cpuShare(cpu0, sentUs - t0); // before writing the profile, which is not the sender's work
  await stopProfile(b.profileDir, 'sender');
  return { startUs: t0, sentUs, sent: started, paths, failed, cpuShare: share };
}

/** This process's CPU time since `since`, as a share of one core over `wallUs`. */
function cpuShare(since: NodeJS.CpuUsage, wallUs: number): number {
  const used = process.cpuUsage(since);
  return wallUs > 0 ? (used.user + used.system) / wallUs : 0;
}

/** The receiving side's CPU and clock since `expect`: the same window for both. */
let receiveCpu = process.cpuUsage();
let receiveFromUs = nowUs();

/** Resets the receive counter, then (on `wait`) waits for `count` more. */
async function expect(b: { username: string; profileDir?: string }) {
  const u = user(b.username);
  await startProfile(b.profileDir);
  receiveCpu = process.cpuUsage();
  receiveFromUs = nowUs();
  u.received = 0;
  u.firstAtUs = 0;
  u.lastAtUs = 0;
  return {};
}

async function received(b: { username: string; count: number; profileDir?: string }) {
  const u = user(b.username);
  await until(() => u.received >= b.count, `${b.count} DMs received`, WAIT_MS * 3);
  const share = cpuShare(receiveCpu, nowUs() - receiveFromUs); // before writing the profile, which is not the receiver's work
  await stopProfile(b.profileDir, 'receiver');
  return { received: u.received, firstAtUs: u.firstAtUs, lastAtUs: u.lastAtUs, cpuShare: share };
}

/** With `--profile`: a V8 CPU profile of this process over the timed part only (the burst, or its receipt). */
let profiler: Session | null = null;

async function startProfile(dir: string | undefined): Promise<void> {
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  profiler = new Session();
  profiler.connect();
  await profiler.post('Profiler.enable');
  await profiler.post('Profiler.start');
}

async function stopProfile(dir: string | undefined, role: string): Promise<void> {
  if (!dir || !profiler) return;
  const { profile } = await profiler.post('Profiler.stop');
  writeFileSync(join(dir, `dm-${role}-${process.pid}.cpuprofile`), JSON.stringify(profile));
  profiler.disconnect();
  profiler = null;
}

async function closeAll() {
  for (const u of users.values()) {
    await u.dm.close();
    u.client.close();
  }
  users.clear();
  rmSync(root, { recursive: true, force: true });
  return {};
}

process.on('SIGTERM', () => {
  void closeAll().finally(() => process.exit(0));
});

serve({
  login: (b: Parameters<typeof login>[0]) => login(b),
  befriend: (b: Parameters<typeof befriend>[0]) => befriend(b),
  ready: (b: Parameters<typeof ready>[0]) => ready(b),
  setup: (b: Parameters<typeof setup>[0]) => setup(b),
  burst: (b: Parameters<typeof burst>[0]) => burst(b),
  expect: (b: Parameters<typeof expect>[0]) => expect(b),
  received: (b: Parameters<typeof received>[0]) => received(b),
  close: () => closeAll(),
});
