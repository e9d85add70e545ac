/**
 * The abuse soak (scripts/soak/abuse.ts) in miniature: ten clients, 3 s windows, attacks with
 * small counts, against a real authority process with TLS. It asserts that the run completes
 * and prints its table with every phase and its summary line; not the ratios (CI is noisy, and
 * the exit code of a full run is for them) and not the failure count (the attacks are meant to
 * cause failures on code that does not resist them; the full run reports them).
 */
import { describe, expect, it } from 'vitest';
import { run } from '../helpers/process.js';
import { PROCESS_MS } from '../helpers/timing.js';

const MINUTES = 5;
const RUN_MS = MINUTES * 60_000 + 2 * PROCESS_MS;

/** In the order they run: a baseline before every measured attack, and one after the last. */
const PHASES = [
  'baseline 1',
  '1 syncRooms amplification',
  'baseline 2',
  '2 password checks',
  'baseline 3',
  '3 login spray',
  'baseline 4',
  '4 owner lockout',
  '5 audit rewrite',
  'baseline 5',
  '6 slow sockets (TLS)',
  'baseline 6',
  '7 floods',
  'baseline 7',
];

describe('abuse soak, smoke size', () => {
  it(
    'runs every attack in turn beside the well-behaved load and prints the table and the summary line',
    async () => {
      const r = await run('scripts/soak/abuse.ts', ['--smoke', '--minutes', String(MINUTES)], {}, RUN_MS);
      expect(r.stderr).not.toContain('abuse soak failed');
      expect(r.code).toBe(0);
      const rows = r.stdout.split('\n').filter((l) => l.startsWith('| '));
      expect(rows.slice(1).map((l) => l.split('|')[1]!.trim())).toEqual(PHASES);
      expect(rows.find((l) => l.startsWith('| 5 audit rewrite '))).toContain('n/a (offline; tests/authority/admin/audit.test.ts)');
      // Every measured phase has samples: the load really ran beside each attack.
      for (const l of rows.filter((x) => !x.startsWith('| window ') && !x.startsWith('| 5 '))) expect(l).toMatch(/\(n=[1-9]\d*\)/);
      expect(r.stdout).toMatch(/^abuse: clients=10 .*well_behaved_failures=\d+ .*verdict=(pass|fail)$/m);
    },
    RUN_MS + PROCESS_MS,
  );
});
