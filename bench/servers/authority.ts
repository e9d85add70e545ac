/**
 * Child process: the real authority under test (authority/src/server.ts with the default
 * configuration), on 127.0.0.1, with the bench's accounts written into its store first and the
 * per-user and per-address limits raised so that 2000 clients from one address can run flat out.
 * Started by bench/run.ts; stops on SIGTERM (a graceful stop, so that --cpu-prof gets written).
 */
import { statSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { writeHeapSnapshot } from 'node:v8';
import { Authority } from '../../authority/src/server.js';
import { defaultConfig } from '../../authority/src/config.js';
import { Logger } from '../../authority/src/log.js';
import { PasswordPool } from '../../authority/src/passwords.js';
import { hashToken } from '../../authority/src/accounts-policy.js';
import { serve } from '../ipc.js';
import { collect } from './collect.js';
import { accountName, roomOf, sessionToken, type AccountSeed, type ServerLaunch, type ServerReady } from './types.js';

/** Cheap scrypt for the seeded accounts: same format and code path, about a millisecond a login. */
const CHEAP_SCRYPT = { N: 1 << 10, r: 8, p: 1 };
const UNLIMITED = 1_000_000_000;

let authority: Authority | null = null;
/** How late the event loop ran its callbacks, between two reads of the stats (one step). */
const loopDelay = monitorEventLoopDelay({ resolution: 1 });
loopDelay.enable();

function readLoopDelay(): { loopP99Ms: number; loopMaxMs: number } {
  const out = { loopP99Ms: loopDelay.percentile(99) / 1e6, loopMaxMs: loopDelay.max / 1e6 };
  loopDelay.reset();
  return out;
}

function walBytes(dbFile: string): number {
  try {
    return statSync(`${dbFile}-wal`).size;
  } catch {
    return 0;
  }
}

async function seed(a: Authority, seeds: AccountSeed[]): Promise<void> {
  const hashes = new Map<string, string>();
  const cheap = new PasswordPool(1, CHEAP_SCRYPT);
  try {
    for (const s of seeds) {
      const key = `${s.hash}\u0000${s.password}`;
      if (!hashes.has(key)) {
        const r = await (s.hash === 'cheap' ? cheap : a.passwords).hash(s.password, 'bench-seed');
        if (!r.ok) throw new Error('password pool busy while seeding');
        hashes.set(key, r.value);
      }
    }
  } finally {
    await cheap.close();
  }
  const { users, rooms } = a.store;
  const now = Date.now();
  a.store.transaction(() => {
    for (const s of seeds) {
      const hash = hashes.get(`${s.hash}\u0000${s.password}`)!;
      for (let i = 0; i < s.count; i++) {
        const name = accountName(s.prefix, i);
        const tokenHash = hashToken(sessionToken(name));
        const existing = users.byName(name); // a cached store (history) may hold it already
        const user = existing ?? users.create(name, hash, false, now);
        if (!users.session(tokenHash)) users.createSession(tokenHash, user.id, now);
        if (existing) continue;
        const roomName = roomOf(s, i);
        if (roomName === null) continue;
        const room = rooms.byName(roomName) ?? rooms.create(roomName, 'closed', now);
        rooms.addMember(user.id, room.id, now);
      }
    }
  });
}

async function start(launch: ServerLaunch): Promise<ServerReady> {
  const config = defaultConfig({
    host: '127.0.0.1',
    port: 0,
    dataDir: launch.dataDir,
    tls: launch.tls,
    quiet: true,
    console: false,
    limits: {
      ...defaultConfig().limits,
      messagesPerSecond: UNLIMITED,
      messageBurst: UNLIMITED,
      connectionsPerIp: UNLIMITED,
      socketsPerIp: UNLIMITED,
      newSocketsPerSecondPerIp: UNLIMITED,
      newSocketBurstPerIp: UNLIMITED,
      readBytesPerSecond: UNLIMITED,
      readBurstBytes: UNLIMITED,
      registrationsPerIp: UNLIMITED,
      loginFailuresPerIp: UNLIMITED,
    },
  });
  const log = new Logger(true);
  authority = new Authority(config, log);
  await seed(authority, launch.accounts);
  const started = await authority.start();
  return { url: started.url, pid: process.pid, fingerprint: started.fingerprint };
}

process.on('SIGTERM', () => {
  const a = authority;
  void (a ? a.stop('bench done') : Promise.resolve()).finally(() => process.exit(0));
});

serve({
  start: (body: ServerLaunch) => start(body),
  gc: () => collect(),
  /** For investigations of memory per connection (bench/run.ts does not use it). */
  heapSnapshot: (b: { file: string }) => {
    collect();
    return { file: writeHeapSnapshot(b.file) };
  },
  /** The group commit's counters, the WAL's size, the worst flush and the event loop's lateness since the last call (null before start). */
  stats: () => {
    if (!authority) return null;
    const stats = { ...authority.committer.stats, walBytes: walBytes(authority.store.file), ...readLoopDelay() };
    authority.committer.stats.syncMsMax = 0; // the worst flush of the next step, not of the run
    return stats;
  },
});
