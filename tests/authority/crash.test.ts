/** kill -9 of the real authority process under load: every acknowledged message is there after restart. */
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { Store } from '../../authority/src/store/index.js';
import { newClient, PASSWORD, tempDir, uniqueName, until } from '../helpers/authority.js';
import { spawnAuthority, type SpawnedAuthority } from '../helpers/process.js';
import { processTestMs } from '../helpers/timing.js';

const dataDir = tempDir('chandler-crash-');
const started: SpawnedAuthority[] = [];
afterAll(() => {
  for (const a of started) if (a.proc.exitCode === null) a.proc.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

describe('crash safety', () => {
  it('loses no acknowledged message when the authority is killed with SIGKILL mid-stream', async () => {
    const rounds = 2;
    const acked = new Set<string>();
    for (let round = 0; round < rounds; round++) {
      const auth = await spawnAuthority(['--port', '0', '--host', '127.0.0.1', '--data', dataDir, '--no-console', '--quiet']);
      started.push(auth);
      const clients = [];
      for (let i = 0; i < 4; i++) {
        const c = newClient(auth);
        const r = await c.register(uniqueName(`crash${round}`), PASSWORD);
        expect(r.ok).toBe(true);
        clients.push(c);
      }
      // Open loop: every client keeps posting; acks are recorded as they come.
      let stop = false;
      const loops = clients.map(async (c, i) => {
        for (let n = 0; !stop; n++) {
          const m = c.post('Général', `round ${round} client ${i} message ${n}`);
          c.settled(m).then((x) => x.status === 'sent' && acked.add(x.clientId));
          await new Promise((r) => setTimeout(r, 40));
        }
      });
      await until(() => acked.size >= (round + 1) * 100, `${(round + 1) * 100} messages acknowledged`);
      auth.proc.kill('SIGKILL');
      expect(await auth.exited).toBe(null);
      stop = true;
      await Promise.all(loops);
      for (const c of clients) c.close();
    }
    const store = new Store(`${dataDir}/chandler.db`);
    const ids = new Set(
      (store.db.prepare('SELECT client_id FROM messages').all() as { client_id: string }[]).map((r) => r.client_id),
    );
    const integrity = store.db.pragma('integrity_check', { simple: true });
    store.close();
    const lost = [...acked].filter((id) => !ids.has(id));
    expect(acked.size).toBeGreaterThanOrEqual(rounds * 100);
    expect(lost).toEqual([]);
    expect(integrity).toBe('ok');
  }, processTestMs(2)); // two authority processes, each with a round of traffic
});
