/**
 * `npm test`: the whole suite (unit, authority, CLI, DM, browser end-to-end, bench smoke) in one
 * vitest run, then one plain summary line `N passed, N failed` counted from vitest's JSON report.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const reportFile = resolve(root, 'test-results', 'vitest-report.json');
mkdirSync(resolve(root, 'test-results'), { recursive: true });

const vitest = resolve(root, 'node_modules', 'vitest', 'vitest.mjs');
const result = spawnSync(
  process.execPath,
  [vitest, 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${reportFile}`, ...process.argv.slice(2)],
  { cwd: root, stdio: 'inherit' },
);

interface Report {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
}

if (!existsSync(reportFile)) {
  console.log('0 passed, 1 failed');
  console.error('vitest wrote no report: it did not run');
  process.exit(result.status || 1);
}
const report = JSON.parse(readFileSync(reportFile, 'utf8')) as Report;
const skipped = report.numPendingTests + report.numTodoTests;
console.log(`${report.numPassedTests} passed, ${report.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(result.status ?? 1);
