/**
 * The password pool's close() comes back even when nothing else holds the process up: a command
 * line tool (--create-admin) that made a pool, kept its main thread busy while the worker started
 * its first job, then closed it, used to end with the close still pending, its exit code lost.
 */
import { describe, expect, it } from 'vitest';
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
