/**
 * Runs before `npm start`: builds the web client the authority serves when it is missing or
 * older than its sources, so that a fresh clone needs no extra step.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const BUILT = join(ROOT, 'desktop', 'dist', 'renderer', 'index.html');
const SOURCES = ['desktop/src/renderer', 'shared'].map((d) => join(ROOT, d));

function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

const builtAt = existsSync(BUILT) ? statSync(BUILT).mtimeMs : 0;
if (builtAt < Math.max(...SOURCES.map(newest))) {
  process.stderr.write('building the web client (once per change)…\n');
  const { buildRenderer } = await import('../desktop/build.js'); // vite loads only when needed
  await buildRenderer();
}
