/**
 * The abuse soak's cyclers, in a thread of their own (started by WellBehaved, load.ts, through
 * the TS worker loader): each login runs OPAQUE's key stretching in the client, 100–200 ms of
 * CPU that must not stall the event loop timing the posters' deliveries. Told by the parent
 * whom to register and whom to log out and in again; answers each order, and says when a
 * cycler's connection drops. Its client cores end with the thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ChandlerClient } from '../../../shared/client/index.js';
import { PASSWORD } from '../../../tests/helpers/authority.js';
import { wellBehavedClient, type CyclerOrder, type CyclerReport } from './load.js';

const { url, fingerprint } = workerData as { url: string; fingerprint: string };
const port = parentPort!;
const clients = new Map<string, ChandlerClient>();
const report = (r: CyclerReport) => port.postMessage(r);

function keep(name: string, client: ChandlerClient): void {
  client.on('status', (s) => s === 'reconnecting' && report({ kind: 'dropped', name }));
  clients.set(name, client);
}

async function register(name: string, address: string): Promise<CyclerReport> {
  const client = wellBehavedClient(url, fingerprint, address);
  const r = await client.register(name, PASSWORD);
  if (!r.ok) {
    client.close();
    return { kind: 'done', name, ok: false, code: r.error.code };
  }
  keep(name, client);
  return { kind: 'done', name, ok: true, ms: 0 };
}

/** Logs out (the old session) and in again on a new client core: the login is what is timed. */
async function cycle(name: string, address: string): Promise<CyclerReport> {
  const old = clients.get(name);
  clients.delete(name);
  if (old) await old.logout().catch(() => old.close());
  const client = wellBehavedClient(url, fingerprint, address);
  const t0 = performance.now();
  const r = await client.login(name, PASSWORD);
  if (!r.ok) {
    client.close();
    return { kind: 'done', name, ok: false, code: r.error.code };
  }
  const ms = performance.now() - t0;
  keep(name, client);
  return { kind: 'done', name, ok: true, ms };
}

port.on('message', (o: CyclerOrder) => {
  const work = o.kind === 'register' ? register(o.name, o.address) : cycle(o.name, o.address);
  void work.then(report, (err: unknown) => report({ kind: 'done', name: o.name, ok: false, code: `threw ${(err as Error).message}` }));
});
report({ kind: 'ready' });
