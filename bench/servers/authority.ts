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
import { hashToken } from '../../authority/src/accounts-policy.js';
import type { PoolAnswer } from '../../authority/src/passwords.js';
import { base64ToBytes } from '../../shared/crypto/index.js';
import { keyLogName, newKeyLogKeys, signKeyLogHead } from '../../shared/crypto/key-log.js';
import { MERKLE_HASH_BYTES } from '../../shared/crypto/merkle.js';
import { finishLogin, startLogin } from '../../shared/crypto/opaque.js';
import { summarize } from '../histogram.js';
import { serve } from '../ipc.js';
import { collect } from './collect.js';
import { benchIdentity } from './identities.js';
import { CHEAP_KSF, registrationRecords, type SeededLogin } from './records.js';
import {
  accountName,
  roomOf,
  sessionToken,
  type AccountSeed,
  type KeyLogCostsBody,
  type KeyLogSeed,
  type KeyLogSeeded,
  type KeyLogServerCosts,
  type LoginSteps,
  type ServerLaunch,
  type ServerReady,
} from './types.js';

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

/** The pool's key (its fairness share) for the bench's own password work. */
const SEED_KEY = 'bench-seed';

/**
 * Writes the accounts of `seeds` (those the store does not hold already: a cached store), each
 * with a session for `resume` and, as its seed says, a real OPAQUE record or a scrypt hash of
 * before OPAQUE.
 */
async function seed(a: Authority, seeds: AccountSeed[]): Promise<NonNullable<ServerReady['seeded']>> {
  const started = performance.now();
  const { users, rooms } = a.store;
  const setup = await a.opaqueSetup;
  const logins = new Map<string, SeededLogin>();
  /** One scrypt hash per password (the check costs the same whatever the salt). */
  const legacyHashes = new Map<string, string>();
  for (const s of seeds) {
    const fresh = Array.from({ length: s.count }, (_, i) => accountName(s.prefix, i)).filter((name) => !users.byName(name));
    if (s.stretching === 'legacy') {
      if (fresh.length && !legacyHashes.has(s.password)) legacyHashes.set(s.password, await scryptHash(a, s.password));
      continue;
    }
    const ksf = s.stretching === 'cheap' ? CHEAP_KSF : a.config.opaqueKsf;
    const made = await registrationRecords({ serverSetup: setup, usernames: fresh, password: s.password, ksf });
    for (const [i, name] of fresh.entries()) logins.set(name, made[i]!);
  }
  // Made before OPAQUE: no record, the hash (users.create writes only records, as the authority now does).
  const toLegacy = a.store.db.prepare<[string, number]>('UPDATE users SET pass_hash = ?, opaque_record = NULL, opaque_ksf = NULL WHERE id = ?');
  const now = Date.now();
  let accounts = 0;
  a.store.transaction(() => {
    for (const s of seeds) {
      for (let i = 0; i < s.count; i++) {
        const name = accountName(s.prefix, i);
        const tokenHash = hashToken(sessionToken(name));
        const existing = users.byName(name); // a cached store (history) may hold it already
        const user = existing ?? users.create(name, logins.get(name) ?? NO_RECORD_YET, false, now);
        if (!existing && s.stretching === 'legacy') toLegacy.run(legacyHashes.get(s.password)!, user.id);
        if (!users.session(tokenHash)) users.createSession(tokenHash, user.id, now);
        if (existing) continue;
        accounts++;
        const roomName = roomOf(s, i);
        if (roomName === null) continue;
        const room = rooms.byName(roomName) ?? rooms.create(roomName, 'closed', now);
        rooms.addMember(user.id, room.id, now);
      }
    }
  });
  return { accounts, records: logins.size, ms: performance.now() - started };
}

/** A legacy account's row until the same transaction replaces it with its hash. */
const NO_RECORD_YET = { record: '', ksf: '' };

async function scryptHash(a: Authority, password: string): Promise<string> {
  const r = await a.passwords.hash(password, SEED_KEY);
  if (!r.ok) throw new Error('password pool busy while seeding');
  return r.value;
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
      loginFailuresPerAccount: UNLIMITED,
      loginFailuresPerAccountNewAddresses: UNLIMITED,
    },
  });
  const log = new Logger(true);
  authority = new Authority(config, log);
  const seeded = await seed(authority, launch.accounts);
  const started = await authority.start();
  return { url: started.url, pid: process.pid, fingerprint: started.fingerprint, seeded };
}

/**
 * What the authority's password workers take for each step of a login, one job at a time on an
 * otherwise idle pool (median of `rounds`, ms, the worker's round trip included): the scrypt check
 * of a login before OPAQUE, and the two server steps of an OPAQUE login.
 */
async function loginSteps(body: { rounds: number }): Promise<LoginSteps> {
  const a = authority;
  if (!a) throw new Error('not started');
  const setup = await a.opaqueSetup;
  const password = 'bench-step-password';
  const [login] = await registrationRecords({ serverSetup: setup, usernames: [STEP_ACCOUNT], password, ksf: CHEAP_KSF });
  const hash = await scryptHash(a, password);
  const times = { scryptVerify: [] as number[], opaqueLoginStart: [] as number[], opaqueLoginFinish: [] as number[] };
  const timed = async <T>(into: number[], job: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    const r = await job();
    into.push(performance.now() - t);
    return r;
  };
  const granted = <T>(r: PoolAnswer<T>): T => {
    if (!r.ok) throw new Error('password pool busy');
    return r.value;
  };
  for (let i = 0; i < body.rounds; i++) {
    if (!granted(await timed(times.scryptVerify, () => a.passwords.verify(password, hash, SEED_KEY)))) throw new Error('scrypt check failed');
    const started = await startLogin(password);
    const server = granted(
      await timed(times.opaqueLoginStart, () => a.passwords.opaqueLoginStart(setup, STEP_ACCOUNT, login!.record, started.request, SEED_KEY)),
    );
    if (!server) throw new Error('loginStart refused');
    const proof = await finishLogin(started, server.loginResponse, password, CHEAP_KSF);
    if (!proof) throw new Error('the login response does not open');
    const ok = granted(await timed(times.opaqueLoginFinish, () => a.passwords.opaqueLoginFinish(server.serverLoginState, proof.finishLoginRequest, SEED_KEY)));
    if (!ok) throw new Error('loginFinish refused');
  }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? 0;
  return { scryptVerifyMs: median(times.scryptVerify), opaqueLoginStartMs: median(times.opaqueLoginStart), opaqueLoginFinishMs: median(times.opaqueLoginFinish) };
}

/** An account name no seed uses (lower case: OPAQUE's name for it as it is). */
const STEP_ACCOUNT = 'bench-step-costs';

function started(): Authority {
  if (!authority) throw new Error('not started');
  return authority;
}

function userNamed(a: Authority, username: string) {
  const user = a.store.users.byName(username);
  if (!user) throw new Error(`no account ${username}`);
  return user;
}

/** See KeyLogSeed. One transaction: each publish's own is a savepoint inside it. */
function seedKeyLog(s: KeyLogSeed): KeyLogSeeded {
  const a = started();
  const t = performance.now();
  const now = Date.now();
  a.store.transaction(() => {
    for (let i = s.from; i < s.to; i++) {
      const name = accountName(s.prefix, i);
      const user = a.store.users.byName(name) ?? a.store.users.create(name, NO_RECORD_YET, false, now);
      a.keyLog.publish(user.id, user.username, benchIdentity(), Date.now());
    }
    if (!s.reader) return;
    const reader = userNamed(a, s.reader);
    for (const f of s.friends ?? []) a.store.friends.befriend(reader.id, userNamed(a, f).id, now);
  });
  return { size: a.keyLog.size, ms: performance.now() - t };
}

/** See KeyLogServerCosts. */
function keyLogCosts(body: KeyLogCostsBody): KeyLogServerCosts {
  const a = started();
  const log = a.keyLog;
  const head = log.currentHead(); // signed here, once for this size: not part of a proof's cost below
  if (!head) throw new Error('the key log is empty');
  const indices = body.friends.map((f) => {
    const e = a.store.keyLog.latestFor(keyLogName(f));
    if (!e) throw new Error(`${f} has no key in the log`);
    return e.index;
  });
  const timed = (rounds: number, job: () => unknown) => {
    const us: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const t = performance.now();
      job();
      us.push((performance.now() - t) * 1000);
    }
    return summarize(us);
  };
  let k = 0;
  const inclusion = timed(body.rounds * indices.length, () => log.inclusion(indices[k++ % indices.length]!));
  const consistency = timed(body.rounds, () => log.consistency(body.from, log.size));
  const keys = newKeyLogKeys(); // the log's own key stays in KeyLog: signing costs the same with any key
  const root = base64ToBytes(head.root, MERKLE_HASH_BYTES)!;
  const headSign = timed(body.signRounds, () => signKeyLogHead(head.size, root, head.at, keys.secretKey));
  return { size: log.size, inclusion, consistency, headSign };
}

process.on('SIGTERM', () => {
  const a = authority;
  void (a ? a.stop('bench done') : Promise.resolve()).finally(() => process.exit(0));
});

serve({
  start: (body: ServerLaunch) => start(body),
  gc: () => collect(),
  loginSteps: (b: { rounds: number }) => loginSteps(b),
  seedKeyLog: (b: KeyLogSeed) => seedKeyLog(b),
  keyLogCosts: (b: KeyLogCostsBody) => keyLogCosts(b),
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
