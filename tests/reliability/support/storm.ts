/**
 * Reconnect storm, shared by the CI test and `scripts/soak/storm.ts`: many real client cores
 * are cut off at once (every server-side socket terminated, as a switch reboot would), a
 * writer keeps posting while they are away and while they come back, and every client must
 * end holding every message of the room exactly once: no gap, no duplicate.
 */
import { ChandlerClient, type ClientStatus } from '../../../shared/client/index.js';
import type { RoomMessage } from '../../../shared/protocol/index.js';
import { pinnedSocketFactory } from '../../../cli/node-socket.js';
import { PASSWORD, registered, type TestAuthority } from '../../helpers/authority.js';
import { pool, sleep, waitFor } from './util.js';
import { LOADED_MS } from '../../helpers/timing.js';

export const STORM_ROOM = 'Général';

export interface StormOptions {
  clients: number;
  /** Drops, one after the other once everyone is back (default 1). */
  rounds?: number;
  /** Messages posted right after the drop, while every client is away. */
  whileAway: number;
  /** One more message every this many ms until every client is back (0: none)… */
  trickleMs: number;
  /** …but no more than this many per round (each one is fanned out to every client). */
  trickleMax?: number;
  /** The clients' reconnect backoff (jittered between half and all of each step). */
  backoff: { initialMs: number; maxMs: number };
  /** How long the clients get to come back and catch up. */
  recoverTimeoutMs: number;
  /** Registrations in flight at once while setting up. */
  setupConcurrency?: number;
  log?: (line: string) => void;
}

export interface ClientFinding {
  client: string;
  missing: number[];
  duplicates: number[];
  wrongText: number[];
}

/** One line per client with a problem: ranges, not thousands of numbers. */
export function describeFinding(f: ClientFinding): string {
  const ranges = (xs: number[]) => {
    const out: string[] = [];
    for (let i = 0; i < xs.length; ) {
      let j = i;
      while (j + 1 < xs.length && xs[j + 1] === xs[j]! + 1) j++;
      out.push(i === j ? `${xs[i]}` : `${xs[i]}-${xs[j]}`);
      i = j + 1;
    }
    return out.join(',') || 'none';
  };
  return `${f.client}: missing ${ranges(f.missing)}; duplicated ${ranges(f.duplicates)}; wrong text ${ranges(f.wrongText)}`;
}

export interface StormReport {
  clients: number;
  rounds: number;
  /** Sockets cut, over all rounds. */
  dropped: number;
  /** Clients back to 'ready' after the last drop. */
  recovered: number;
  posted: number;
  /** (client, message) pairs checked against what the writer had acknowledged. */
  messagesChecked: number;
  gaps: number;
  duplicates: number;
  wrongText: number;
  /** Sockets the clients opened after the drop (first tries and retries). */
  reconnectAttempts: number;
  /** From a drop to the last client holding every message, in the slowest round. */
  recoverMs: number;
  clientsWithProblems: number;
  /** The first few, described. */
  findings: string[];
}

class Watched {
  /** Sequence numbers of every 'message' event for the room, in arrival order. */
  readonly events: number[] = [];
  dropped = false;
  readyAgain = false;
  attempts = 0;
  readonly client: ChandlerClient;

  constructor(t: TestAuthority, backoff: StormOptions['backoff']) {
    this.client = stormClient(t, backoff, () => this.dropped && this.attempts++);
    this.client.on('message', (m: RoomMessage) => m.room === STORM_ROOM && this.events.push(m.seq));
    this.client.on('status', (s: ClientStatus) => this.dropped && s === 'ready' && (this.readyAgain = true));
  }
}

/** A real client core with the storm's backoff; `onSocket` is told of every socket it opens. */
export function stormClient(t: TestAuthority, backoff: StormOptions['backoff'], onSocket: () => void = () => {}): ChandlerClient {
  const factory = pinnedSocketFactory({ fingerprint: t.fingerprint });
  return new ChandlerClient({
    url: t.url,
    socketFactory: (url) => {
      onSocket();
      return factory(url);
    },
    clientVersion: 'storm/1',
    reconnect: backoff,
    requestTimeoutMs: LOADED_MS,
  });
}

export async function runStorm(t: TestAuthority, o: StormOptions): Promise<StormReport> {
  const log = o.log ?? (() => {});
  const writer = await registered(t);
  const writerId = t.authority.store.users.byName(writer.username!)!.id;
  const acked = new Map<number, string>(); // seq → text, as acknowledged to the writer
  const post = async (text: string) => {
    const m = await writer.settled(writer.post(STORM_ROOM, text));
    if (m.status !== 'sent') throw new Error(`writer's message failed: ${m.error?.code}`);
    acked.set(m.seq!, text);
    return m.seq!;
  };

  log(`registering ${o.clients} clients`);
  const watched: Watched[] = await pool(o.clients, o.setupConcurrency ?? 16, async (i) => {
    const w = new Watched(t, o.backoff);
    const r = await w.client.register(`storm${process.pid % 1000}_${i}_${Date.now() % 100_000}`, PASSWORD);
    if (!r.ok) throw new Error(`storm client ${i} could not register: ${r.error.code}`);
    return w;
  });
  const startSeq = new Map(watched.map((w) => [w, w.client.rooms.get(STORM_ROOM)!.lastSeq]));

  // Live traffic first: everyone is subscribed and receiving.
  let last = 0;
  for (let i = 0; i < 5; i++) last = await post(`before the storm ${i}`);
  await waitFor(() => watched.every((w) => w.events.includes(last)), 'every client receives live messages', o.recoverTimeoutMs);

  let dropped = 0;
  let slowestRecoverMs = 0;
  for (let round = 1; round <= (o.rounds ?? 1); round++) {
    // The storm: every socket but the writer's is cut at once.
    log(`round ${round}: dropping every client`);
    const droppedAt = Date.now();
    for (const w of watched) {
      w.dropped = true;
      w.readyAgain = false;
    }
    for (const c of [...t.authority.hub.connections]) {
      if (c.user?.id === writerId) continue;
      c.ws.terminate();
      dropped++;
    }
    await waitFor(() => watched.every((w) => w.client.status !== 'ready' || w.readyAgain), 'clients notice the drop', o.recoverTimeoutMs);

    const pending: Promise<number>[] = [];
    for (let i = 0; i < o.whileAway; i++) pending.push(post(`round ${round} while away ${i}`));
    await Promise.all(pending);
    // And more while they come back: live events racing the resume's sync.
    let trickling = o.trickleMs > 0;
    const trickle = (async () => {
      for (let i = 0; trickling && i < (o.trickleMax ?? 100); i++) {
        await post(`round ${round} while coming back ${i}`);
        await sleep(o.trickleMs);
      }
    })();
    await waitFor(() => watched.every((w) => w.readyAgain), 'every client is back', o.recoverTimeoutMs);
    trickling = false;
    await trickle;
    for (let i = 0; i < 3; i++) last = await post(`round ${round} after the storm ${i}`);
    await waitFor(
      () => watched.every((w) => w.client.rooms.get(STORM_ROOM)!.messages.has(last)),
      'every client catches up',
      o.recoverTimeoutMs,
    );
    const recoverMs = Date.now() - droppedAt;
    slowestRecoverMs = Math.max(slowestRecoverMs, recoverMs);
    log(`round ${round}: ${watched.length} clients back and caught up in ${recoverMs} ms`);
  }

  const finalSeq = t.authority.store.messages.lastSeqOf(t.authority.store.rooms.byName(STORM_ROOM)!.id);
  const findings: ClientFinding[] = [];
  let messagesChecked = 0;
  for (const w of watched) {
    const from = startSeq.get(w)! + 1;
    const held = new Map(w.client.messagesOf(STORM_ROOM).map((m) => [m.seq, m.text]));
    const missing: number[] = [];
    const wrongText: number[] = [];
    for (let seq = from; seq <= finalSeq; seq++) {
      if (!held.has(seq)) missing.push(seq);
      else if (acked.has(seq) && held.get(seq) !== acked.get(seq)) wrongText.push(seq);
      else messagesChecked++;
    }
    const seen = new Set<number>();
    const duplicates = w.events.filter((s) => (seen.has(s) ? true : (seen.add(s), false)));
    if (missing.length || duplicates.length || wrongText.length) {
      findings.push({ client: w.client.username!, missing, duplicates, wrongText });
    }
  }
  const report: StormReport = {
    clients: o.clients,
    rounds: o.rounds ?? 1,
    dropped,
    recovered: watched.filter((w) => w.readyAgain).length,
    posted: acked.size,
    messagesChecked,
    gaps: findings.reduce((n, f) => n + f.missing.length, 0),
    duplicates: findings.reduce((n, f) => n + f.duplicates.length, 0),
    wrongText: findings.reduce((n, f) => n + f.wrongText.length, 0),
    reconnectAttempts: watched.reduce((n, w) => n + w.attempts, 0),
    recoverMs: slowestRecoverMs,
    clientsWithProblems: findings.length,
    findings: findings.slice(0, 5).map(describeFinding),
  };
  for (const w of watched) w.client.close();
  writer.close();
  return report;
}
