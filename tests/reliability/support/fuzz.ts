/**
 * Property-based fuzzing of a live authority, shared by the CI test and `scripts/soak/fuzz.ts`.
 *
 * Each run opens a few real TLS WebSockets — anonymous, logged in as a user (who has a friend
 * with published keys, so the DM paths are reachable), and logged in as an admin — and sends
 * each a burst of generated frames (support/fuzz-frames.ts); OPAQUE exchanges among them wait
 * for their start's reply before their finish. Properties checked:
 *   - every frame gets exactly one reply in the protocol's shape, or the connection is closed
 *     with a documented close code (and the closing ones only for their cause);
 *   - no reply is INTERNAL, no handler throws, nothing escapes as an uncaught exception;
 *   - nothing hangs: a follow-up request on each connection, and on a long-lived witness
 *     connection, is answered within the bound;
 *   - nothing is corrupted: PRAGMA integrity_check and foreign_key_check, every stored message,
 *     user and room satisfies the protocol's own schemas, what was broadcast is what was stored,
 *     and the audit chain verifies;
 *   - nothing raw reaches the logs: no control characters, no lone surrogates, no field content
 *     that is never to be logged (texts, passwords, tokens, envelopes, signals carry a marker).
 */
import fc from 'fast-check';
import {
  ClientId,
  CLOSE_CODES,
  ERROR_CODES,
  isCleanText,
  LIMITS,
  parseServerFrame,
  REQUEST_TYPES,
  REQUESTS,
  ReplyFrame,
  RoomMessage,
  RoomName,
  RoomPolicy,
  Username,
  type OpaqueKsf,
  type RequestType,
} from '../../../shared/protocol/index.js';
import { createChannelKeys, generateIdentity, publicIdentity, sealEnvelope, sealIdentityBackup, type DeviceIdentity } from '../../../shared/crypto/index.js';
import { finishLogin, finishRegistration, startLogin, startRegistration } from '../../../shared/crypto/opaque.js';
import { hashToken } from '../../../authority/src/accounts-policy.js';
import { DEFAULT_ROOM } from '../../../authority/src/store/rooms.js';
import { PASSWORD, registered, type AuthorityOverrides, type TestAuthority } from '../../helpers/authority.js';
import { build, CLOSING_LABELS, framesArb, MARKER, type Built, type FrameSpec, type FuzzWorld } from './fuzz-frames.js';
import { RawConn } from './raw.js';

/**
 * The authority's limits for fuzzing: every frame comes from 127.0.0.1 and aims at a handful of
 * accounts, and without these the login throttles would answer nearly every OPAQUE start after
 * the first few, leaving its worker steps unfuzzed.
 */
export const FUZZ_LIMITS = {
  registrationsPerIp: 1_000_000,
  loginFailuresPerIp: 1_000_000,
  loginFailuresPerAccount: 1_000_000,
  loginFailuresPerAccountNewAddresses: 1_000_000,
  passwordChecksPerUser: 1_000_000,
  messagesPerSecond: 1000,
  messageBurst: 1000,
} satisfies AuthorityOverrides['limits'];

export type Role = 'anonymous' | 'user' | 'admin';
const ROLES: Role[] = ['anonymous', 'user', 'admin'];

export interface FuzzOptions {
  /** Stop once this many frames were sent. */
  frames: number;
  seed: number;
  /** Connections per run, each with its own burst. */
  parallel: number;
  maxFramesPerConn: number;
  /** No new run starts after this. */
  timeBudgetMs: number;
  /** A frame (or the follow-up request) unanswered this long is a hang. */
  replyTimeoutMs: number;
  log?: (line: string) => void;
}

export interface FuzzReport {
  seed: number;
  frames: number;
  runs: number;
  connections: Record<Role, number>;
  /** Replies by error code ('ok' for successes). */
  replies: Record<string, number>;
  /** Closes by code. */
  closes: Record<string, number>;
  /** Per request type: frames sent with a good id, and how many got past the gates to the handler. */
  coverage: Record<string, { sent: number; handled: number }>;
  crashes: number;
  hangs: number;
  internalErrors: number;
  violations: string[];
  storedMessagesChecked: number;
  broadcastsCompared: number;
  rowsChecked: number;
  logLinesChecked: number;
  integrity: string;
  seconds: number;
}

/** WebSocket's own codes the `ws` library closes with: invalid UTF-8 (1007), message too big (1009). */
const WS_INVALID_UTF8 = 1007;
const WS_TOO_BIG = 1009;
const DOCUMENTED_CLOSES = new Set<number>([...Object.values(CLOSE_CODES), WS_INVALID_UTF8, WS_TOO_BIG]);
/** Replies from the gates, before any handler runs. */
const GATE_CODES = new Set(['BAD_REQUEST', 'NOT_AUTHENTICATED', 'NOT_ADMIN', 'PASSWORD_CHANGE_REQUIRED']);
const SETUP_ID = 2 ** 40;
const PROBE_ID = 2 ** 40 + 1;
const PROBE_TOKEN = 'probe-token-that-opens-nothing';
const LONE_SURROGATE = /\p{Surrogate}/u;
// eslint-disable-next-line no-control-regex
const RAW_IN_LOG = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const MAX_LOG_LINE = 2000;
const MAX_VIOLATIONS_KEPT = 50;

interface Account {
  id: number;
  name: string;
  token: string;
}

const show = (x: string | Buffer) => JSON.stringify(typeof x === 'string' ? x.slice(0, 160) : `<${x.length} bytes>`);

let accountsMade = 0;

/** The accounts the fuzzer logs in as and aims at, put back between runs if frames undid them. */
class World {
  user!: Account;
  friend!: Account;
  admin!: Account;
  witness!: Account;
  victims: Account[] = [];
  private readonly userKeys: DeviceIdentity = generateIdentity();
  private readonly backup = sealIdentityBackup(this.userKeys, new Uint8Array(64).fill(7));
  private readonly friendKeys: DeviceIdentity = generateIdentity();
  envelope = '';
  opaque: FuzzWorld['opaque'] | null = null;

  constructor(private readonly t: TestAuthority) {}

  private get store() {
    return this.t.authority.store;
  }

  private async account(prefix: string, admin = false): Promise<Account> {
    const name = `${prefix}${process.pid % 1000}_${++accountsMade}`;
    const c = await registered(this.t, name);
    const token = c.session!.token;
    c.close();
    const id = this.store.users.byName(name)!.id;
    if (admin) this.store.users.setAdmin(id, true);
    return { id, name, token };
  }

  private alive(a: Account | undefined, admin = false): boolean {
    if (!a) return false;
    const row = this.store.users.byId(a.id);
    const session = this.store.users.session(hashToken(a.token));
    return !!row && !!session && session.user_id === a.id && row.must_change_password === 0 && (!admin || row.is_admin === 1);
  }

  async ensure(): Promise<void> {
    const users = this.store.users;
    // Admin frames may ban (which also blocks 127.0.0.1, the fuzzer's own address) or kick.
    const blocked = this.store.db
      .prepare('SELECT id FROM users WHERE banned_at IS NOT NULL OR kicked_until IS NOT NULL')
      .all() as { id: number }[];
    for (const { id } of blocked) {
      users.unban(id);
      users.kick(id, null);
    }
    // A banned account erased since leaves its address ban behind, with nobody to unban.
    this.store.db.prepare('DELETE FROM ip_bans WHERE user_id IS NULL').run();
    if (!this.alive(this.user)) this.user = await this.account('fzuser');
    if (!this.alive(this.friend)) this.friend = await this.account('fzfriend');
    if (!this.alive(this.admin, true)) this.admin = await this.account('fzadmin', true);
    if (!this.alive(this.witness, true)) this.witness = await this.account('fzwitness', true);
    for (let i = 0; i < 3; i++) if (!this.alive(this.victims[i])) this.victims[i] = await this.account('fzvictim');
    if (!this.store.friends.areFriends(this.user.id, this.friend.id)) this.store.friends.befriend(this.user.id, this.friend.id, Date.now());
    for (const [a, keys] of [[this.user, this.userKeys], [this.friend, this.friendKeys]] as const) {
      if (this.store.dms.keysOf(a.id)?.keyId !== keys.keyId) this.store.dms.putKeys(a.id, publicIdentity(keys), Date.now());
    }
    const channel = createChannelKeys(
      { username: this.user.name, identity: this.userKeys },
      { username: this.friend.name, identity: publicIdentity(this.friendKeys) },
    );
    this.envelope = sealEnvelope(channel, { id: 'fuzz-envelope-0001', body: { kind: 'text', text: `${MARKER} sealed` } });
    this.opaque ??= await this.opaqueMessages();
  }

  /**
   * Real OPAQUE messages, made once: a login of the user and a registration done to their end,
   * so that their finish and record are replays from then on, and a start of each.
   */
  private async opaqueMessages(): Promise<FuzzWorld['opaque']> {
    const login = await startLogin(PASSWORD);
    const registration = await startRegistration(PASSWORD);
    const loginConn = await RawConn.open(this.t.url);
    const registerConn = await RawConn.open(this.t.url);
    try {
      const first = await loginConn.request(SETUP_ID, 'loginStart', { username: this.user.name, startLoginRequest: login.request });
      const response = first.result as { loginResponse?: string; ksf?: OpaqueKsf } | undefined;
      const proof = response?.loginResponse && response.ksf ? await finishLogin(login, response.loginResponse, PASSWORD, response.ksf) : null;
      if (!proof) throw new Error(`the fuzzer's own login failed: ${first.error?.code ?? 'its proof'}`);
      const loggedIn = await loginConn.request(SETUP_ID + 1, 'loginFinish', { finishLoginRequest: proof.finishLoginRequest });
      if (!loggedIn.ok) throw new Error(`the fuzzer's own login failed: ${loggedIn.error?.code}`);
      const name = `fzrecord${process.pid % 1000}_${++accountsMade}`;
      const started = await registerConn.request(SETUP_ID, 'registerStart', { username: name, registrationRequest: registration.request });
      const reply = started.result as { registrationResponse?: string; ksf?: OpaqueKsf } | undefined;
      const record = reply?.registrationResponse && reply.ksf ? await finishRegistration(registration, reply.registrationResponse, PASSWORD, reply.ksf) : null;
      if (!record) throw new Error(`the fuzzer's own registration failed: ${started.error?.code ?? 'its record'}`);
      const registered = await registerConn.request(SETUP_ID + 1, 'registerFinish', { registrationRecord: record.record });
      if (!registered.ok) throw new Error(`the fuzzer's own registration failed: ${registered.error?.code}`);
      const fresh = { login: await startLogin(PASSWORD), registration: await startRegistration(PASSWORD) };
      return {
        startLoginRequest: fresh.login.request,
        registrationRequest: fresh.registration.request,
        finishLoginRequest: proof.finishLoginRequest,
        registrationRecord: record.record,
      };
    } finally {
      loginConn.close();
      registerConn.close();
    }
  }

  snapshot(): FuzzWorld {
    const rooms = this.store.rooms.all().map((r) => r.name).sort((a, b) => (a === DEFAULT_ROOM ? -1 : b === DEFAULT_ROOM ? 1 : 0));
    return {
      usernames: [this.user.name, this.friend.name, this.admin.name, ...this.victims.map((v) => v.name), 'nobody_here'],
      rooms: [...rooms.slice(0, 12), 'No such room'],
      passwords: [PASSWORD, `wrong-${MARKER}-password!`],
      tokens: [this.user.token, this.admin.token, 'z'.repeat(43)],
      identity: publicIdentity(this.userKeys),
      envelope: this.envelope,
      backup: this.backup,
      deviceIds: ['fuzz-device-0000001', 'fuzz-device-0000002'],
      opaque: this.opaque!,
    };
  }

  token(role: 'user' | 'admin'): string {
    return role === 'user' ? this.user.token : this.admin.token;
  }
}

interface Plan {
  role: Role;
  frames: FrameSpec[];
}

export async function runFuzz(t: TestAuthority, o: FuzzOptions): Promise<FuzzReport> {
  const log = o.log ?? (() => {});
  const started = Date.now();
  const report: FuzzReport = {
    seed: o.seed,
    frames: 0,
    runs: 0,
    connections: { anonymous: 0, user: 0, admin: 0 },
    replies: {},
    closes: {},
    coverage: Object.fromEntries(REQUEST_TYPES.map((k) => [k, { sent: 0, handled: 0 }])),
    crashes: 0,
    hangs: 0,
    internalErrors: 0,
    violations: [],
    storedMessagesChecked: 0,
    broadcastsCompared: 0,
    rowsChecked: 0,
    logLinesChecked: 0,
    integrity: 'not checked',
    seconds: 0,
  };
  let violationCount = 0;
  const violation = (text: string) => {
    violationCount++;
    if (report.violations.length < MAX_VIOLATIONS_KEPT) report.violations.push(text);
  };
  const onCrash = (err: unknown) => {
    report.crashes++;
    violation(`uncaught: ${(err as Error)?.stack ?? String(err)}`);
  };
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
  const handlerErrorsBefore = t.authority.counters.handlerErrors;

  const world = new World(t);
  await world.ensure();
  // The witness: an admin reads every room; what it is sent must be what is stored.
  let witness = await openWitness(t, world, violation);
  const broadcasts: Record<string, unknown>[] = [];
  const witnessed = () => {
    broadcasts.push(...witness.events.filter((e) => e.ev === 'messagePosted'));
    witness.events.length = 0;
  };

  try {
    for (let chunk = 0; report.frames < o.frames && Date.now() - started < o.timeBudgetMs; chunk++) {
      const snapshot = world.snapshot();
      const plans = fc.array(
        fc.record({
          role: fc.constantFrom(...ROLES),
          frames: fc.array(framesArb(snapshot), { minLength: 1, maxLength: o.maxFramesPerConn }).map((xs) => xs.flat().slice(0, o.maxFramesPerConn)),
        }),
        { minLength: o.parallel, maxLength: o.parallel },
      );
      await fc.assert(
        fc.asyncProperty(plans, async (run: Plan[]) => {
          if (report.frames >= o.frames || Date.now() - started >= o.timeBudgetMs) return;
          try {
            await world.ensure();
            await oneRun(t, world, run, report, violation, o);
          } catch (err) {
            violation(`run failed: ${(err as Error).stack ?? String(err)}`);
          }
          report.runs++;
          // The witness answers too (a hang anywhere in the server shows here).
          if (!witness.isOpen) {
            violation(`witness connection closed ${witness.closeCode}`);
            witnessed();
            await world.ensure();
            witness = await openWitness(t, world, violation);
          }
          const probe = await probeOf(witness, o.replyTimeoutMs);
          if (!probe) {
            report.hangs++;
            violation(`witness got no answer within ${o.replyTimeoutMs} ms`);
          }
        }),
        { seed: o.seed + chunk, numRuns: 4, endOnFailure: true },
      );
      witnessed();
      report.broadcastsCompared += compareBroadcasts(t, broadcasts.splice(0), violation);
      report.logLinesChecked += checkLogs(t, violation);
      if (chunk % 10 === 0) log(`frames=${report.frames} runs=${report.runs} violations=${violationCount}`);
    }
    // Still alive: a new user can register and read.
    const late = await registered(t);
    const rooms = await late.call('listRooms', {});
    if (!rooms.ok) violation(`after fuzzing, listRooms failed: ${rooms.error.code}`);
    late.close();
  } finally {
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onCrash);
    witness.close();
  }
  witnessed();
  report.broadcastsCompared += compareBroadcasts(t, broadcasts.splice(0), violation);
  report.logLinesChecked += checkLogs(t, violation);
  const store = checkStore(t, violation);
  report.integrity = store.integrity;
  report.storedMessagesChecked = store.messages;
  report.rowsChecked = store.rows;
  const handlerErrors = t.authority.counters.handlerErrors - handlerErrorsBefore;
  if (handlerErrors > 0) violation(`${handlerErrors} handler(s) threw`);
  if (violationCount > report.violations.length) report.violations.push(`… and ${violationCount - report.violations.length} more`);
  report.seconds = Math.round((Date.now() - started) / 1000);
  return report;
}

async function openWitness(t: TestAuthority, world: World, violation: (s: string) => void): Promise<RawConn> {
  const w = await RawConn.open(t.url);
  const r = await w.request(SETUP_ID, 'resume', { token: world.witness.token });
  if (!r.ok) violation(`witness could not resume: ${r.error?.code}`);
  return w;
}

/**
 * A request every state answers (resume with a token that opens nothing): true when answered,
 * false when not within the time — a hang; a connection closed meanwhile is no hang.
 */
async function probeOf(c: RawConn, timeoutMs: number): Promise<boolean> {
  const count = () => c.replies.filter((r) => r.re === PROBE_ID).length;
  const before = count();
  const answered = () => count() > before;
  c.send(JSON.stringify({ id: PROBE_ID, type: 'resume', token: PROBE_TOKEN }));
  return (await c.until(answered, timeoutMs)) || (c.closeCode !== null && !answered());
}

async function oneRun(
  t: TestAuthority,
  world: World,
  run: Plan[],
  report: FuzzReport,
  violation: (s: string) => void,
  o: FuzzOptions,
): Promise<void> {
  // Everyone connects and logs in first, then all bursts go at once.
  const conns = await Promise.all(
    run.map(async (plan) => {
      const c = await RawConn.open(t.url);
      if (plan.role !== 'anonymous') {
        let r = await c.request(SETUP_ID, 'resume', { token: world.token(plan.role) });
        if (!r.ok) {
          // A password hash from the last run may have finished since (an erasure): set up again.
          await world.ensure();
          c.replies.length = 0;
          r = await c.request(SETUP_ID, 'resume', { token: world.token(plan.role) });
        }
        if (!r.ok) violation(`${plan.role} could not resume: ${r.error?.code}`);
      }
      report.connections[plan.role]++;
      return c;
    }),
  );
  await Promise.all(run.map((plan, i) => burst(conns[i]!, plan, report, violation, o)));
}

async function burst(c: RawConn, plan: Plan, report: FuzzReport, violation: (s: string) => void, o: FuzzOptions): Promise<void> {
  let nextId = 1;
  const setupReplies = c.replies.length;
  const sent: Built[] = [];
  for (const spec of plan.frames) {
    if (!c.isOpen) break;
    const f = build(spec, () => nextId++);
    c.send(f.data, f.binary);
    sent.push(f);
    report.frames++;
    if (f.awaitReply) await c.until(() => c.replies.some((r) => r.re === f.id), o.replyTimeoutMs); // unanswered: a hang, found below
    if (sent.length % 8 === 0) await new Promise((r) => setImmediate(r));
  }
  const where = (f: Built | undefined) => (f ? `${plan.role} ${f.label} ${f.type ?? ''} ${show(f.data)}` : plan.role);
  const answered = () => c.replies.length - setupReplies >= sent.length;
  const allAnswered = await c.until(answered, o.replyTimeoutMs);
  if (!allAnswered && c.isOpen) {
    report.hangs++;
    const got = new Set(c.replies.map((r) => r.re));
    violation(`${sent.length - (c.replies.length - setupReplies)} frame(s) unanswered after ${o.replyTimeoutMs} ms, e.g. ${where(sent.find((f) => f.id !== null && !got.has(f.id)))}`);
  }
  if (c.isOpen && !(await probeOf(c, o.replyTimeoutMs))) {
    report.hangs++;
    violation(`follow-up request unanswered after ${o.replyTimeoutMs} ms on ${plan.role}`);
  }
  const replies = c.replies.slice(setupReplies).filter((r) => r.re !== PROBE_ID);
  if (c.isOpen && replies.length !== sent.length) violation(`${replies.length} replies to ${sent.length} frames on ${plan.role}`);
  if (c.closeCode !== null) {
    const code = c.closeCode;
    report.closes[code] = (report.closes[code] ?? 0) + 1;
    const labels = new Set(sent.map((f) => f.label));
    if (!DOCUMENTED_CLOSES.has(code)) violation(`closed with undocumented code ${code} (${c.closeReason}) on ${plan.role}`);
    else if ((code === CLOSE_CODES.FRAME_TOO_LARGE || code === WS_TOO_BIG) && !labels.has('oversized')) violation(`closed ${code} without an oversized frame`);
    else if (code === WS_INVALID_UTF8 && !labels.has('invalid-utf8')) violation(`closed ${code} without invalid UTF-8`);
    else if (code !== CLOSE_CODES.FRAME_TOO_LARGE && code !== WS_TOO_BIG && code !== WS_INVALID_UTF8 && ![...CLOSING_LABELS].some((l) => labels.has(l))) {
      // Closes caused by the frames' meaning: a ban, a kick, a password change elsewhere, abuse.
      const allowed = new Set<number>([CLOSE_CODES.BANNED, CLOSE_CODES.KICKED, CLOSE_CODES.SESSION_ENDED, CLOSE_CODES.ACCOUNT_DELETED, CLOSE_CODES.PROTOCOL_ABUSE]);
      if (!allowed.has(code)) violation(`closed ${code} (${c.closeReason}) with no cause among its frames on ${plan.role}`);
    }
  }
  const byId = new Map(sent.filter((f) => f.id !== null).map((f) => [f.id!, f]));
  for (const r of replies) {
    const parsed = ReplyFrame.safeParse(r);
    if (!parsed.success) {
      violation(`reply outside the protocol: ${JSON.stringify(r).slice(0, 200)}`);
      continue;
    }
    const code = r.ok ? 'ok' : r.error!.code;
    report.replies[code] = (report.replies[code] ?? 0) + 1;
    const f = r.re === null ? undefined : byId.get(r.re);
    if (code === 'INTERNAL') {
      report.internalErrors++;
      violation(`INTERNAL for ${where(f)}`);
    }
    if (!f || !f.type) continue;
    const cov = report.coverage[f.type]!;
    cov.sent++;
    if (!GATE_CODES.has(code)) cov.handled++;
    if (r.ok && !REQUESTS[f.type as RequestType].result.safeParse(r.result).success) {
      violation(`result of ${f.type} outside its schema: ${JSON.stringify(r.result).slice(0, 200)}`);
    }
    if (!r.ok && !(ERROR_CODES as readonly string[]).includes(code)) violation(`unknown error code ${code}`);
  }
  for (const e of c.events) if (parseServerFrame(e).kind !== 'event') violation(`event outside the protocol: ${JSON.stringify(e).slice(0, 200)}`);
  for (const u of c.unreadable) violation(`unreadable frame from the server: ${u}`);
  c.close();
}

/** What the witness was sent is what is stored (unless the author's account was erased since). */
function compareBroadcasts(t: TestAuthority, events: Record<string, unknown>[], violation: (s: string) => void): number {
  const db = t.authority.store.db;
  const row = db.prepare(
    'SELECT m.client_id, m.author_name, m.text, m.ts FROM messages m JOIN rooms r ON r.id = m.room_id WHERE r.name = ? AND m.seq = ?',
  );
  let n = 0;
  for (const e of events) {
    const m = RoomMessage.safeParse(e);
    if (!m.success) {
      violation(`messagePosted outside its schema: ${JSON.stringify(e).slice(0, 200)}`);
      continue;
    }
    const stored = row.get(m.data.room, m.data.seq) as { client_id: string; author_name: string; text: string; ts: number } | undefined;
    n++;
    if (!stored) {
      if (t.authority.store.users.byName(m.data.author)) violation(`broadcast ${m.data.room}#${m.data.seq} is not stored`);
      continue;
    }
    if (stored.text !== m.data.text || stored.client_id !== m.data.clientId || stored.ts !== m.data.ts || stored.author_name !== m.data.author) {
      violation(`broadcast ${m.data.room}#${m.data.seq} differs from the stored row: sent ${JSON.stringify(m.data.text.slice(0, 40))}, stored ${JSON.stringify(stored.text.slice(0, 40))}`);
    }
  }
  return n;
}

function checkLogs(t: TestAuthority, violation: (s: string) => void): number {
  const lines = t.logs.splice(0);
  for (const line of lines) {
    if (RAW_IN_LOG.test(line)) violation(`raw control character in a log line: ${JSON.stringify(line.slice(0, 200))}`);
    if (LONE_SURROGATE.test(line)) violation(`lone surrogate in a log line: ${JSON.stringify(line.slice(0, 200))}`);
    if (line.includes(MARKER)) violation(`content that is never logged reached the log: ${JSON.stringify(line.slice(0, 200))}`);
    if (line.length > MAX_LOG_LINE) violation(`log line of ${line.length} characters`);
    if (/ ERROR /.test(line)) violation(`error logged: ${line.slice(0, 300)}`);
  }
  return lines.length;
}

/** Every row still means what the protocol says it means. */
function checkStore(t: TestAuthority, violation: (s: string) => void): { integrity: string; messages: number; rows: number } {
  const store = t.authority.store;
  const db = store.db;
  const integrity = String(db.pragma('integrity_check', { simple: true }));
  if (integrity !== 'ok') violation(`integrity_check: ${integrity}`);
  const fk = db.pragma('foreign_key_check') as unknown[];
  if (fk.length) violation(`foreign_key_check: ${JSON.stringify(fk.slice(0, 3))}`);
  let rows = 0;
  for (const r of db.prepare('SELECT name, policy FROM rooms').iterate() as Iterable<{ name: string; policy: string }>) {
    rows++;
    if (!RoomName.safeParse(r.name).success || !RoomPolicy.safeParse(r.policy).success || LONE_SURROGATE.test(r.name)) {
      violation(`room row outside the schema: ${JSON.stringify(r)}`);
    }
  }
  for (const u of db.prepare('SELECT username FROM users').iterate() as Iterable<{ username: string }>) {
    rows++;
    if (!Username.safeParse(u.username).success) violation(`user row outside the schema: ${JSON.stringify(u.username)}`);
  }
  let messages = 0;
  const all = db.prepare(
    'SELECT r.name AS room, m.seq, m.client_id AS clientId, m.author_name AS author, m.text, m.ts FROM messages m JOIN rooms r ON r.id = m.room_id',
  );
  for (const m of all.iterate() as Iterable<{ room: string; seq: number; clientId: string; author: string; text: string; ts: number }>) {
    messages++;
    const problems = [
      !RoomMessage.safeParse(m).success && 'schema',
      !ClientId.safeParse(m.clientId).success && 'client id',
      !isCleanText(m.text) && 'forbidden characters',
      [...m.text].length > LIMITS.maxMessageChars && 'too long',
      m.text !== m.text.normalize('NFC') && 'not NFC',
      LONE_SURROGATE.test(m.text) && 'lone surrogate',
    ].filter(Boolean);
    if (problems.length) violation(`message ${m.room}#${m.seq} stored with ${problems.join(', ')}`);
  }
  const audit = store.audit.verify();
  if (!audit.ok) violation(`audit chain: ${audit.problem}`);
  return { integrity, messages, rows: rows + messages };
}
