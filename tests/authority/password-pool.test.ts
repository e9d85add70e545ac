/**
 * The password pool's close() comes back even when nothing else holds the process up: a command
 * line tool (--create-admin) that made a pool, kept its main thread busy while the worker started
 * its first job, then closed it, used to end with the close still pending, its exit code lost.
 * And its queue serves callers in turn.
 */
import { describe, expect, it } from 'vitest';
import { PasswordPool } from '../../authority/src/passwords.js';
import { TEST_SCRYPT } from '../helpers/authority.js';
import { run } from '../helpers/process.js';
import { processTestMs } from '../helpers/timing.js';

describe('PasswordPool.close', () => {
  it('comes back in a process with nothing else to keep it alive, after the main thread was busy', async () => {
    const r = await run('tests/authority/fixtures/close-pool.ts', ['800']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('closed\n');
    expect(r.code).toBe(0);
  }, processTestMs(1));
});

describe('PasswordPool queue', () => {
  it('serves callers in turn: a stranger waits behind the job an address has running, not behind all it queued', async () => {
    // One worker. An attacker's address keeps two logins in the pool; a stranger's login comes
    // third: it used to wait behind both (first come, first served), now behind the running one only.
    const pool = new PasswordPool(1, TEST_SCRYPT, { jobsPerWorker: 4, jobsPerKey: 2 });
    try {
      const stored = await pool.hash('x-password-1!', 'setup');
      expect(stored.ok).toBe(true);
      const order: string[] = [];
      const job = (key: string, label: string) =>
        pool.verify('wrong-password!', stored.ok ? stored.value : '', key).then((r) => {
          expect(r.ok).toBe(true);
          order.push(label);
        });
      await Promise.all([job('ip:attacker', 'attacker 1'), job('ip:attacker', 'attacker 2'), job('ip:stranger', 'stranger')]);
      expect(order).toEqual(['attacker 1', 'stranger', 'attacker 2']);
    } finally {
      await pool.close();
    }
  });
});
