/**
 * The attacker of the abuse soak: each attack of issue 12 runs until its window's deadline,
 * then closes everything it opened and says what it saw (reply codes by request kind). It must
 * work against the old authority and the fixed one, so it only counts answers, never expects one.
 */
import type { Socket } from 'node:net';
import { Worker } from 'node:worker_threads';
import { PASSWORD } from '../../../tests/helpers/authority.js';
import { LOADED_MS } from '../../../tests/helpers/timing.js';
import type { RawConn } from '../../../tests/reliability/support/raw.js';
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
/** Pause before opening again a connection the server closed. */
const REOPEN_GAP_MS = 100;
/** The shortest time a refused request of one lane takes before the lane's next request. */
const REFUSED_GAP_MS = 20;
let nextId = 1;

/** What came back, by kind: "syncRooms(64 variants) ok×3 DUPLICATE_ROOM×40; …". */
class View {
  private readonly byKind = new Map<string, Map<string, number>>();

  async ask(kind: string, conn: RawConn, type: string, params: Record<string, unknown>): Promise<void> {
    const codes = this.byKind.get(kind) ?? new Map<string, number>();
    this.byKind.set(kind, codes);
    const t0 = performance.now();
    try {
      const r = await conn.request(nextId++, type, params, LOADED_MS);
      tally(codes, r.ok ? 'ok' : r.error?.until ? `${r.error.code}(until)` : (r.error?.code ?? 'error'));
      if (r.ok) return;
    } catch {
      tally(codes, conn.closeCode !== null ? `closed${conn.closeCode}` : 'timeout');
    }
    // The attacker shares this process with the well-behaved clients: a lane answered at once
    // with a refusal waits a little, so that it measures the server and does not starve them.
    const elapsed = performance.now() - t0;
    if (elapsed < REFUSED_GAP_MS) await sleep(REFUSED_GAP_MS - elapsed);
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
  const r = await c.request(nextId++, 'login', { username: ctx.attacker(attack), password: PASSWORD, clientVersion: 'abuse/1' }).catch(() => null);
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

/** 2. Unthrottled password checks: wrong old passwords from one session, many in flight. */
export const passwordChecks: Attack = async (ctx) => {
  const view = new View();
  const conn = await session(ctx, 2, 1, view);
  if (!conn) return view.toString();
  await Promise.all(
    Array.from({ length: ctx.counts.pwParallel }, async (_, k) => {
      for (let i = 0; live(ctx) && conn.isOpen; i++) {
        if ((i + k) % 2 === 0) await view.ask('changePassword', conn, 'changePassword', { oldPassword: WRONG, newPassword: NEW_PASSWORD });
        else await view.ask('deleteAccount', conn, 'deleteAccount', { password: WRONG });
      }
    }),
  );
  conn.close();
  return view.toString();
};

/** One lane of wrong logins on `victim` from `address` until the deadline, reopening what the server closes. */
async function wrongLogins(ctx: AttackContext, view: View, address: string, victim: string): Promise<void> {
  let conn: RawConn | null = null;
  while (live(ctx)) {
    if (!conn?.isOpen) {
      if (conn) await sleep(REOPEN_GAP_MS); // closed by the server: no tight reconnect loop
      conn?.close();
      conn = await open(ctx, address);
      if (!conn) {
        view.note('login', 'refused');
        await sleep(200);
        continue;
      }
    }
    await view.ask('login', conn, 'login', { username: victim, password: WRONG, clientVersion: 'abuse/1' });
  }
  conn?.close();
}

/** 3. Login spray on a well-behaved account from parallel connections of one address; a burst of registrations. */
export const loginSpray: Attack = async (ctx) => {
  const view = new View();
  const registrations = pool(ctx.counts.registrations, ctx.counts.registrations, async (k) => {
    const c = await open(ctx, attackerAddress(3, 2));
    if (!c) return view.note('register', 'refused');
    await view.ask('register', c, 'register', { username: `${ctx.namePrefix}spray${k}`, password: PASSWORD, clientVersion: 'abuse/1' });
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
      if (!c) return view.note('login', 'refused');
      await view.ask('login', c, 'login', { username: ctx.attacker(7), password: PASSWORD, clientVersion: 'abuse/1' });
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

/** Starts the attack's thread (attack-thread.ts) and waits until it is loaded and ready. */
export function prepareAttack(attack: AttackName, ctx: Omit<AttackContext, 'deadline'>): Promise<PreparedAttack> {
  const { attacker, ...plain } = ctx;
  const attackers = Array.from({ length: ATTACK_NUMBERS }, (_, n) => attacker(n));
  const worker = new Worker(new URL('../../../authority/src/ts-worker.mjs', import.meta.url), {
    workerData: { entry: new URL('./attack-thread.ts', import.meta.url).href, attack, ctx: plain, attackers },
  });
  let view: string | null = null;
  const done = new Promise<string>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('exit', (code) => (view !== null ? resolve(view) : reject(new Error(`attack ${attack} thread exited with ${code}`))));
  });
  done.catch(() => {}); // reported by start(), or by the ready wait below
  return new Promise((resolve, reject) => {
    worker.once('message', () => {
      worker.once('message', (v: string) => (view = v));
      resolve({
        start: (deadline) => {
          worker.postMessage(deadline);
          return done;
        },
      });
    });
    done.catch(reject);
  });
}
