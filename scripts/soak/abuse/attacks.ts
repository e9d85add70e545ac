/**
 * The attacker of the abuse soak: each attack of issue 12 runs until its window's deadline,
 * then closes everything it opened and says what it saw (reply codes by request kind). It must
 * work against the old authority and the fixed one, so it only counts answers, never expects one.
 *
 * Logins are OPAQUE exchanges: a guess costs the attacker one loginStart (or reauthStart) and
 * the key stretching of its response, here, in his own process: only then does he know whether
 * the password was right ("guesses told" in the view). A wrong guess sends no finish.
 */
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { finishLogin, finishRegistration, startLogin, startRegistration, type Started } from '../../../shared/crypto/opaque.js';
import { REQUESTS, type OpaqueKsf, type Result } from '../../../shared/protocol/index.js';
import { PASSWORD } from '../../../tests/helpers/authority.js';
import { ROOT } from '../../../tests/helpers/process.js';
import { LOADED_MS } from '../../../tests/helpers/timing.js';
import type { RawConn, RawReply } from '../../../tests/reliability/support/raw.js';
import { pool, sleep } from '../../../tests/reliability/support/util.js';
import { tally } from './load.js';
import { attackerAddress, rawFrom, stalledSocket } from './net.js';

export interface AttackCounts {
  variants: number;
  syncConns: number;
  pwParallel: number;
  spray: number;
  registrations: number;
  slowSockets: number;
  flood: number;
}

export interface AttackContext {
  url: string;
  port: number;
  deadline: number;
  counts: AttackCounts;
  /** The attacker's accounts, one per attack (attacker(n) for attack n). */
  attacker: (attack: number) => string;
  /** Rooms full of long messages the attack-1 account is a member of. */
  bigRooms: string[];
  /** Other rooms the attack-1 account reads (the default room). */
  readableRooms: string[];
  /** Rooms that need an admin's approval (requestAccess sends every admin an event). */
  approvalRooms: string[];
  /** A well-behaved poster (attack 3's target) and a well-behaved cycler (attack 4's). */
  sprayVictim: string;
  lockoutVictim: string;
  wellBehavedNames: string[];
  namePrefix: string;
}

export type Attack = (ctx: AttackContext) => Promise<string>;

const WRONG = 'not-the-password-at-all';
const NEW_PASSWORD = 'an-entirely-new-password-1';
const CLIENT_VERSION = 'abuse/1';
/** Sizes of OPAQUE's messages with the authority's suite (ristretto255, SHA-512): a login's proof, a record. */
const FINISH_LOGIN_BYTES = 64;
const RECORD_BYTES = 192;
/** Pause before opening again a connection the server closed. */
const REOPEN_GAP_MS = 100;
/** The shortest time a refused request of one lane takes before the lane's next request. */
const REFUSED_GAP_MS = 20;
let nextId = 1;

/** What came back, by kind: "syncRooms(64 variants) ok×3 DUPLICATE_ROOM×40; …". */
class View {
  private readonly byKind = new Map<string, Map<string, number>>();

  /** Sends one request and counts its answer: the reply, or null when none came. */
  async ask(kind: string, conn: RawConn, type: string, params: Record<string, unknown>): Promise<RawReply | null> {
    const codes = this.byKind.get(kind) ?? new Map<string, number>();
    this.byKind.set(kind, codes);
    const t0 = performance.now();
    let reply: RawReply | null = null;
    try {
      reply = await conn.request(nextId++, type, params, LOADED_MS);
      tally(codes, reply.ok ? 'ok' : reply.error?.until ? `${reply.error.code}(until)` : (reply.error?.code ?? 'error'));
      if (reply.ok) return reply;
    } catch {
      tally(codes, conn.closeCode !== null ? `closed${conn.closeCode}` : 'timeout');
    }
    // The attacker shares this process with the well-behaved clients: a lane answered at once
    // with a refusal waits a little, so that it measures the server and does not starve them.
    const elapsed = performance.now() - t0;
    if (elapsed < REFUSED_GAP_MS) await sleep(REFUSED_GAP_MS - elapsed);
    return reply;
  }

  note(kind: string, what: string, n = 1): void {
    const codes = this.byKind.get(kind) ?? new Map<string, number>();
    this.byKind.set(kind, codes);
    tally(codes, what, n);
  }

  toString(): string {
    return [...this.byKind]
      .map(([kind, codes]) => `${kind} ${[...codes].sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c}×${n}`).join(' ')}`)
      .join('; ');
  }
}

/** A successful reply's result, parsed by the protocol's schema for that request; null otherwise. */
function resultOf<T extends 'loginStart' | 'registerStart' | 'reauthStart'>(type: T, r: RawReply | null) {
  const parsed = r?.ok ? REQUESTS[type].result.safeParse(r.result) : null;
  return parsed?.success ? (parsed.data as Result<T>) : null;
}

/** Random bytes as an OPAQUE message: well-formed, of the right length, proving nothing. */
const noise = (bytes: number) => randomBytes(bytes).toString('base64url');

async function open(ctx: AttackContext, address: string): Promise<RawConn | null> {
  const c = rawFrom(ctx.url, address);
  try {
    await c.opened;
    return c;
  } catch {
    return null;
  }
}

/** A raw connection logged in as the attack's own account (null when refused). */
async function session(ctx: AttackContext, attack: number, n: number, view: View): Promise<RawConn | null> {
  const c = await open(ctx, attackerAddress(attack, n));
  if (!c) {
    view.note('connect', 'refused');
    return null;
  }
  const id = nextId;
  nextId += 2; // a login is two requests
  const r = await c.login(ctx.attacker(attack), PASSWORD, id, { clientVersion: CLIENT_VERSION }).catch(() => null);
  if (r?.ok) return c;
  view.note('own login', r?.error?.code ?? 'no answer');
  c.close();
  return null;
}

/** Up to n spellings of a name differing only in letter case (the name itself first). */
export function caseVariants(name: string, n: number): string[] {
  const letters = [...name].map((ch, i) => (ch.toUpperCase() !== ch.toLowerCase() ? i : -1)).filter((i) => i >= 0);
  const out: string[] = [];
  for (let mask = 0; mask < 2 ** Math.min(letters.length, 20) && out.length < n; mask++) {
    const chars = [...name];
    letters.forEach((pos, bit) => {
      if (mask & (1 << bit)) chars[pos] = chars[pos] === chars[pos]!.toUpperCase() ? chars[pos]!.toLowerCase() : chars[pos]!.toUpperCase();
    });
    out.push(chars.join(''));
  }
  return out;
}

const live = (ctx: AttackContext) => Date.now() < ctx.deadline;

/** 1. syncRooms amplification: case variants of one room, the largest legal sync, big history pages. */
export const syncAmplification: Attack = async (ctx) => {
  const view = new View();
  const variants = caseVariants(ctx.bigRooms[0]!, ctx.counts.variants);
  const variantKind = `syncRooms(${variants.length} variants)`;
  const legal = Object.fromEntries([...ctx.bigRooms, ...ctx.readableRooms].map((r) => [r, 0]));
  await Promise.all(
    Array.from({ length: ctx.counts.syncConns }, async (_, k) => {
      let conn: RawConn | null = null;
      for (let step = 0; live(ctx); step++) {
        if (!conn?.isOpen) {
          if (conn) await sleep(REOPEN_GAP_MS); // closed by the server: no tight reconnect loop
          conn?.close();
          conn = await session(ctx, 1, k + 1, view);
          if (!conn) {
            await sleep(500);
            continue;
          }
        }
        if (step % 3 === 0) await view.ask(variantKind, conn, 'syncRooms', { cursors: Object.fromEntries(variants.map((v) => [v, 0])), limit: 100 });
        else if (step % 3 === 1) await view.ask(`syncRooms(${Object.keys(legal).length} rooms, legal)`, conn, 'syncRooms', { cursors: legal, limit: 100 });
        else await view.ask('fetchHistory(100)', conn, 'fetchHistory', { room: ctx.bigRooms[step % ctx.bigRooms.length], limit: 100 });
      }
      conn?.close();
    }),
  );
  return view.toString();
};

/**
 * The key stretching of a guess's response, here: what tells the attacker whether it was right.
 * Not begun past the deadline (it is the attacker's CPU, and the window is over).
 */
async function tell(ctx: AttackContext, view: View, guess: Started, response: { loginResponse: string; ksf: OpaqueKsf }): Promise<void> {
  if (!live(ctx)) return view.note('guesses told', 'not (window over)');
  const proof = await finishLogin(guess, response.loginResponse, WRONG, response.ksf);
  view.note('guesses told', proof ? 'right' : 'wrong');
}

/**
 * 2. Password checks of a signed-in session (a stolen one guessing): wrong passwords' reauthStart
 * from one session, many in flight, each followed by the changePassword or deleteAccount that
 * would finish it, its proof noise (a wrong password yields none), for the authority to check.
 */
export const passwordChecks: Attack = async (ctx) => {
  const view = new View();
  const conn = await session(ctx, 2, 1, view);
  if (!conn) return view.toString();
  await Promise.all(
    Array.from({ length: ctx.counts.pwParallel }, async (_, k) => {
      for (let i = 0; live(ctx) && conn.isOpen; i++) {
        const change = (i + k) % 2 === 0;
        const guess = await startLogin(WRONG);
        const next = change ? await startRegistration(NEW_PASSWORD) : null;
        const params = next ? { startLoginRequest: guess.request, registrationRequest: next.request } : { startLoginRequest: guess.request };
        const answer = resultOf('reauthStart', await view.ask('reauthStart', conn, 'reauthStart', params));
        if (answer) await tell(ctx, view, guess, answer);
        if (change) {
          await view.ask('changePassword', conn, 'changePassword', { finishLoginRequest: noise(FINISH_LOGIN_BYTES), registrationRecord: noise(RECORD_BYTES) });
        } else {
          await view.ask('deleteAccount', conn, 'deleteAccount', { finishLoginRequest: noise(FINISH_LOGIN_BYTES) });
        }
      }
    }),
  );
  conn.close();
  return view.toString();
};

/**
 * One lane of wrong guesses at `victim`'s password from `address` until the deadline, reopening
 * what the server closes: a loginStart each, then the key stretching that tells the guess (the
 * next loginStart leaves the exchange unfinished, as a guesser who learnt "wrong" would).
 */
async function wrongLogins(ctx: AttackContext, view: View, address: string, victim: string): Promise<void> {
  let conn: RawConn | null = null;
  while (live(ctx)) {
    if (!conn?.isOpen) {
      if (conn) await sleep(REOPEN_GAP_MS); // closed by the server: no tight reconnect loop
      conn?.close();
      conn = await open(ctx, address);
      if (!conn) {
        view.note('connect', 'refused');
        await sleep(200);
        continue;
      }
    }
    const guess = await startLogin(WRONG);
    const r = await view.ask('loginStart', conn, 'loginStart', { username: victim, startLoginRequest: guess.request, clientVersion: CLIENT_VERSION });
    const answer = resultOf('loginStart', r);
    if (answer && 'loginResponse' in answer) await tell(ctx, view, guess, answer);
  }
  conn?.close();
}

/**
 * A whole registration (registerStart, the record made here with its key stretching,
 * registerFinish); past the deadline it is left half done.
 */
async function register(ctx: AttackContext, view: View, conn: RawConn, username: string): Promise<void> {
  const started = await startRegistration(PASSWORD);
  const r = await view.ask('registerStart', conn, 'registerStart', { username, registrationRequest: started.request, clientVersion: CLIENT_VERSION });
  const answer = resultOf('registerStart', r);
  if (!answer) return;
  if (!live(ctx)) return view.note('registerFinish', 'not sent (window over)');
  const record = await finishRegistration(started, answer.registrationResponse, PASSWORD, answer.ksf);
  if (!record) return view.note('registerFinish', 'response does not verify');
  await view.ask('registerFinish', conn, 'registerFinish', { registrationRecord: record.record });
}

/**
 * A right login as the client core does it (loginStart, the key stretching here, loginFinish);
 * past the deadline it is left half done.
 */
async function login(ctx: AttackContext, view: View, conn: RawConn, username: string): Promise<void> {
  const started = await startLogin(PASSWORD);
  const r = await view.ask('loginStart', conn, 'loginStart', { username, startLoginRequest: started.request, clientVersion: CLIENT_VERSION });
  const answer = resultOf('loginStart', r);
  if (!answer || !('loginResponse' in answer)) return;
  if (!live(ctx)) return view.note('loginFinish', 'not sent (window over)');
  const proof = await finishLogin(started, answer.loginResponse, PASSWORD, answer.ksf);
  if (!proof) return view.note('loginFinish', 'response does not open');
  await view.ask('loginFinish', conn, 'loginFinish', { finishLoginRequest: proof.finishLoginRequest });
}

/** 3. Login spray on a well-behaved account from parallel connections of one address; a burst of registrations. */
export const loginSpray: Attack = async (ctx) => {
  const view = new View();
  const registrations = pool(ctx.counts.registrations, ctx.counts.registrations, async (k) => {
    const c = await open(ctx, attackerAddress(3, 2));
    if (!c) return view.note('connect', 'refused');
    await register(ctx, view, c, `${ctx.namePrefix}spray${k}`);
    c.close();
  });
  const spray = Array.from({ length: ctx.counts.spray }, () => wrongLogins(ctx, view, attackerAddress(3, 1), ctx.sprayVictim));
  await Promise.all([registrations, ...spray]);
  return view.toString();
};

/** 4. Lockout: failed logins on a cycler's account from one other address, one after the other. */
export const lockout: Attack = async (ctx) => {
  const view = new View();
  await wrongLogins(ctx, view, attackerAddress(4, 1), ctx.lockoutVictim);
  return view.toString();
};

/** 6. Sockets that never finish TLS or never upgrade, from one address, held for the window. */
export const slowSockets: Attack = async (ctx) => {
  const view = new View();
  const sockets: Socket[] = [];
  let closedByServer = 0;
  await pool(ctx.counts.slowSockets, 50, async (k) => {
    if (!live(ctx)) return;
    const stage = k % 2 === 0 ? 'tcp' : 'tls';
    const s = await stalledSocket(ctx.port, attackerAddress(6, 1), stage);
    if (!s) return view.note(stage, 'refused');
    view.note(stage, 'opened');
    sockets.push(s);
    s.once('close', () => sockets.includes(s) && closedByServer++);
  });
  while (live(ctx)) await sleep(100);
  view.note('closed by the server', 'during the window', closedByServer);
  for (const s of sockets.splice(0)) s.destroy();
  return view.toString();
};

/** 7. Floods: access and friend requests from one user, and connections that each log in, from one address. */
export const floods: Attack = async (ctx) => {
  const view = new View();
  const conn = await session(ctx, 7, 1, view);
  if (!conn) return view.toString();
  for (let round = 0; live(ctx) && conn.isOpen; round++) {
    const n = ctx.counts.flood;
    const access = Array.from({ length: n }, (_, k) =>
      view.ask('requestAccess', conn, 'requestAccess', { room: ctx.approvalRooms[k % ctx.approvalRooms.length] }),
    );
    const friends = Array.from({ length: n }, (_, k) =>
      view.ask('requestFriend', conn, 'requestFriend', { username: ctx.wellBehavedNames[k % ctx.wellBehavedNames.length] }),
    );
    const logins = pool(n, n, async () => {
      const c = await open(ctx, attackerAddress(7, 2));
      if (!c) return view.note('connect', 'refused');
      await login(ctx, view, c, ctx.attacker(7));
      return c;
    });
    await Promise.all([...access, ...friends]);
    for (const c of await logins) c?.close();
    view.note('rounds', 'done');
  }
  conn.close();
  return view.toString();
};

/** The attacks by name, for the attack thread. */
export const ATTACKS = { syncAmplification, passwordChecks, loginSpray, lockout, slowSockets, floods } as const;
export type AttackName = keyof typeof ATTACKS;

/** The most attack numbers an AttackContext names accounts for (attacker(1)…attacker(8)). */
const ATTACK_NUMBERS = 9;

/** An attack whose thread is started and loaded: start() runs it until the deadline and hands back what it saw. */
export interface PreparedAttack {
  start(deadline: number): Promise<string>;
}

/** What the soak sends the attack's process first (then the window's deadline). */
export interface AttackOrder {
  attack: AttackName;
  ctx: Omit<AttackContext, 'attacker' | 'deadline'>;
  attackers: string[];
}

/** Starts the attack's process (attack-process.ts) and waits until it is loaded and ready. */
export function prepareAttack(attack: AttackName, ctx: Omit<AttackContext, 'deadline'>): Promise<PreparedAttack> {
  const { attacker, ...plain } = ctx;
  const attackers = Array.from({ length: ATTACK_NUMBERS }, (_, n) => attacker(n));
  const child = fork(fileURLToPath(new URL('./attack-process.ts', import.meta.url)), [], {
    cwd: ROOT,
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let view: string | null = null;
  const done = new Promise<string>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      view !== null ? resolve(view) : reject(new Error(`attack ${attack} process exited with ${signal ?? code}`)),
    );
  });
  done.catch(() => {}); // reported by start(), or by the ready wait below
  const order: AttackOrder = { attack, ctx: plain, attackers };
  child.send(order);
  return new Promise((resolve, reject) => {
    child.once('message', () => {
      child.once('message', (v) => (view = String(v)));
      resolve({
        start: (deadline) => {
          child.send(deadline);
          return done;
        },
      });
    });
    done.catch(reject);
  });
}
