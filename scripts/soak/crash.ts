/**
 * Crash soak: `npx tsx scripts/soak/crash.ts [--rounds 20] [--clients 6] [--minutes 15]`.
 * Each round starts the real authority (`authority/src/main.ts`, 127.0.0.1, port 0, one data
 * directory for all rounds), has clients post without pause, and kills it with SIGKILL at a
 * random moment. After every kill the database must hold every message a client saw
 * acknowledged, under the sequence number the acknowledgement gave, and pass integrity_check.
 * A last restart reads everything back through the protocol. Exits 0 only when nothing is lost.
 * (The CI version is tests/authority/crash.test.ts.)
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Store, DB_FILE_NAME } from '../../authority/src/store/index.js';
import type { ChandlerClient } from '../../shared/client/index.js';
import { newClient, PASSWORD, tempDir } from '../../tests/helpers/authority.js';
import { spawnAuthority, type SpawnedAuthority } from '../../tests/helpers/process.js';
import { numberArgs, sleep } from '../../tests/reliability/support/util.js';

const args = numberArgs(process.argv.slice(2), { rounds: 20, clients: 6, minutes: 15, 'post-every-ms': 60 });
const ROOM = 'Général';
const dataDir = tempDir('chandler-crash-soak-');
const started = Date.now();
const deadline = started + args.minutes * 60_000;
const acked = new Map<string, number>(); // client id → acknowledged seq
const running: SpawnedAuthority[] = [];
/** Every acknowledged message is checked again after every later kill. */
let checked = 0;
const lost = new Set<string>();
const wrongSeq = new Set<string>();
let integrity = 'ok';
let rounds = 0;

const userName = (i: number) => `crash${process.pid % 1000}_${i}`;

function boot(): Promise<SpawnedAuthority> {
  return spawnAuthority(['--port', '0', '--host', '127.0.0.1', '--data', dataDir, '--no-console', '--quiet']).then((a) => {
    running.push(a);
    return a;
  });
}

/** Opens the database the killed authority left (WAL recovery included) and checks every ack. */
function checkDatabase(): void {
  const store = new Store(join(dataDir, DB_FILE_NAME));
  try {
    const seqOf = store.db.prepare('SELECT seq FROM messages WHERE client_id = ?');
    for (const [clientId, seq] of acked) {
      checked++;
      const row = seqOf.get(clientId) as { seq: number } | undefined;
      if (!row) lost.add(clientId);
      else if (row.seq !== seq) wrongSeq.add(clientId);
    }
    const result = String(store.db.pragma('integrity_check', { simple: true }));
    if (result !== 'ok') integrity = result;
  } finally {
    store.close();
  }
}

async function round(n: number): Promise<void> {
  const auth = await boot();
  const clients: ChandlerClient[] = [];
  for (let i = 0; i < args.clients; i++) {
    const c = newClient(auth);
    // Registered once: the authority's default limit on registrations per address holds here.
    const r = n === 1 ? await c.register(userName(i), PASSWORD) : await c.login(userName(i), PASSWORD);
    if (!r.ok) throw new Error(`round ${n}: log in failed: ${r.error.code}`);
    clients.push(c);
  }
  // Kill after a random number of new acknowledgements, so the kill lands anywhere in a commit cycle.
  const target = acked.size + 30 + Math.floor(Math.random() * 270);
  let posting = true;
  const loops = clients.map(async (c, i) => {
    for (let k = 0; posting; k++) {
      const m = c.post(ROOM, `round ${n} client ${i} message ${k}`);
      void c.settled(m).then((x) => x.status === 'sent' && acked.set(x.clientId, x.seq!));
      await sleep(args['post-every-ms'] * (0.5 + Math.random()));
    }
  });
  const roundDeadline = Date.now() + 60_000;
  while (acked.size < target && Date.now() < roundDeadline) await sleep(5);
  auth.proc.kill('SIGKILL');
  await auth.exited;
  posting = false;
  await Promise.all(loops);
  for (const c of clients) c.close();
  checkDatabase();
  rounds++;
  console.log(`round ${n}: killed at ${acked.size} acknowledged (target ${target}); lost so far ${lost.size}, wrong seq ${wrongSeq.size}`);
}

let code = 1;
try {
  for (let n = 1; n <= args.rounds && Date.now() < deadline; n++) await round(n);
  // Back up once more, gracefully: every acknowledged message reads back through the protocol.
  const auth = await boot();
  const reader = newClient(auth);
  const r = await reader.login(userName(0), PASSWORD);
  if (!r.ok) throw new Error(`reader log in failed: ${r.error.code}`);
  const seen = new Map<string, number>();
  let before: number | undefined;
  for (;;) {
    const page = await reader.history(ROOM, before, 100);
    if (!page.ok) throw new Error(`history failed: ${page.error.code}`);
    for (const m of page.value.messages) seen.set(m.clientId, m.seq);
    if (!page.value.hasMore || page.value.messages.length === 0) break;
    before = page.value.messages[0]!.seq;
  }
  reader.close();
  const missingOverProtocol = [...acked].filter(([id, seq]) => seen.get(id) !== seq).length;
  auth.proc.kill('SIGTERM');
  await auth.exited;
  console.log(
    `rounds=${rounds} acknowledged=${acked.size} messages_checked=${checked} lost=${lost.size} wrong_seq=${wrongSeq.size} ` +
      `missing_over_protocol=${missingOverProtocol} integrity=${integrity} seconds=${Math.round((Date.now() - started) / 1000)}`,
  );
  code = rounds >= args.rounds && lost.size === 0 && wrongSeq.size === 0 && missingOverProtocol === 0 && integrity === 'ok' ? 0 : 1;
  if (rounds < args.rounds) console.log(`stopped by the time limit after ${rounds} of ${args.rounds} rounds`);
} catch (err) {
  console.error(`crash soak failed: ${(err as Error).stack ?? String(err)}`);
} finally {
  for (const a of running) if (a.proc.exitCode === null && a.proc.signalCode === null) a.proc.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(code);
