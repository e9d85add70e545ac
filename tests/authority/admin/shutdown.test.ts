/**
 * Graceful stop of the real authority process: `kill` at the console with clients posting,
 * and SIGTERM. Exit code 0, clients told why, and every acknowledged message on disk.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChandlerClient } from '../../../shared/client/index.js';
import { pinnedSocketFactory } from '../../../cli/node-socket.js';
import { CLOSE_CODES } from '../../../shared/protocol/index.js';
import { newClient, PASSWORD, uniqueName, until } from '../../helpers/authority.js';
import { spawnAuthority, type SpawnedAuthority } from './spawned.js';
import { LOADED_MS, processTestMs } from '../../helpers/timing.js';

/** Generous: the stop itself takes well under a second alone; this only bounds a hung process. */
const EXIT_WITHIN_MS = LOADED_MS;

let a: SpawnedAuthority | null = null;
const live: ChandlerClient[] = [];

afterEach(async () => {
  for (const c of live.splice(0)) c.close();
  await a?.cleanup();
  a = null;
});

function exitWithin(s: SpawnedAuthority): Promise<number | null | 'hung'> {
  return Promise.race([s.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), EXIT_WITHIN_MS))]);
}

async function poster(s: SpawnedAuthority, acked: { clientId: string; seq: number }[]) {
  const c = newClient(s);
  live.push(c);
  const r = await c.register(uniqueName('poster'), PASSWORD);
  if (!r.ok) throw new Error(r.error.code);
  c.on('outbox', (m) => {
    if (m.status === 'sent' && m.seq !== undefined) acked.push({ clientId: m.clientId, seq: m.seq });
  });
  let n = 0;
  let stop = false;
  const loop = (async () => {
    while (!stop && c.status === 'ready') {
      c.post('Général', `message ${n++}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  return { c, halt: async () => ((stop = true), await loop) };
}

/** A bare pinned socket that reports how the authority closes it (clients reconnect after SHUTDOWN). */
async function observer(s: SpawnedAuthority): Promise<{ closed: Promise<{ code: number; reason: string }> }> {
  const socket = pinnedSocketFactory({ fingerprint: s.fingerprint })(s.url);
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    socket.onclose = (ev) => resolve({ code: ev.code, reason: ev.reason });
  });
  await new Promise((resolve) => (socket.onopen = resolve));
  return { closed }; // wrapped: an async function would otherwise wait for the close itself
}

describe('graceful stop', () => {
  it('kill with clients connected and messages in flight exits 0, and every acknowledged message is stored', async () => {
    a = await spawnAuthority();
    const acked: { clientId: string; seq: number }[] = [];
    const p1 = await poster(a, acked);
    const p2 = await poster(a, acked);
    const told = await observer(a);
    // Posting faster than the per-user rate: acknowledged messages, and a backlog still in flight.
    const waiting = () => [p1, p2].flatMap((p) => [...p.c.outbox.values()]).filter((m) => m.status === 'sending').length;
    await until(() => acked.length >= 10 && waiting() >= 5, 'messages acknowledged and others in flight');
    const before = acked.length;

    a.type('kill\n');
    const code = await exitWithin(a);
    expect(code).toBe(0);
    expect(await told.closed).toEqual({ code: CLOSE_CODES.SHUTDOWN, reason: 'server stopped by an administrator' });
    for (const p of [p1, p2]) {
      await until(() => p.c.status !== 'ready', 'the poster to be cut off');
      await p.halt();
    }
    expect(a.output()).toMatch(/stopping: clients are told/);
    expect(acked.length).toBeGreaterThanOrEqual(before);
    expect(existsSync(join(a.dataDir, 'admin.sock'))).toBe(false);

    const db = new Database(join(a.dataDir, 'chandler.db'), { readonly: true });
    try {
      const find = db.prepare<[string], { seq: number }>('SELECT seq FROM messages WHERE client_id = ?');
      const missing = acked.filter((m) => find.get(m.clientId)?.seq !== m.seq);
      expect(missing).toEqual([]);
      const last = db.prepare('SELECT action, origin FROM audit_log ORDER BY id DESC LIMIT 1').get();
      expect(last).toEqual({ action: 'shutdown', origin: 'console' });
    } finally {
      db.close();
    }
  }, processTestMs(1));

  it.each(['SIGTERM', 'SIGINT'] as const)('%s stops the same way and is audited', async (signal) => {
    a = await spawnAuthority();
    const c = newClient(a);
    live.push(c);
    expect((await c.register(uniqueName('sleeper'), PASSWORD)).ok).toBe(true);
    const told = await observer(a);
    await until(() => a!.output().includes('session_started'), 'the session');
    process.kill(a.proc.pid!, signal);
    expect(await exitWithin(a)).toBe(0);
    expect(await told.closed).toEqual({ code: CLOSE_CODES.SHUTDOWN, reason: signal });
    // The WAL was folded into the main file and removed at the stop.
    expect(existsSync(join(a.dataDir, 'chandler.db-wal'))).toBe(false);
    const db = new Database(join(a.dataDir, 'chandler.db'), { readonly: true });
    try {
      const last = db.prepare('SELECT action, origin, detail FROM audit_log ORDER BY id DESC LIMIT 1').get();
      expect(last).toEqual({ action: 'shutdown', origin: `signal ${signal}`, detail: signal });
    } finally {
      db.close();
    }
    rmSync(a.dataDir, { recursive: true, force: true });
  }, processTestMs(1));
});
