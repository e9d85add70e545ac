/**
 * Direct messages: direct-channel setup time and encrypted DMs per second per pair. They need
 * the DM engine (shared/client/dm/), built in another issue; until it lands the figures are
 * reported as not measured, with what was found.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../ipc.js';
import type { Figure } from '../report.js';
import type { BenchContext } from './common.js';

const DM_DIR = join(REPO_ROOT, 'shared', 'client', 'dm');

export async function dmFigures(ctx: BenchContext): Promise<Figure[]> {
  const files = existsSync(DM_DIR) ? readdirSync(DM_DIR).filter((f) => f.endsWith('.ts')) : [];
  const note = `the DM engine has not landed (shared/client/dm/: ${files.length ? files.join(', ') : 'absent'})`;
  ctx.log(`dm: not measured: ${note}`);
  return [
    { id: 'dm_setup', label: 'DM direct-channel setup', unit: 'ms', ours: null, baseline: null, better: 'lower', target: '≤ 150 ms', met: null, note },
    { id: 'dm_rate', label: 'encrypted DMs/s per pair', unit: 'DM/s', ours: null, baseline: null, better: 'higher', target: '≥ 5k/s', met: null, note },
  ];
}
