/** `authority.pid` in the data dir: tells offline tools (restore) that an authority is running there. */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const PID_FILE = 'authority.pid';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The PID of a live authority on this data dir, or null (a stale file from a crash counts as none). */
export function runningAuthorityPid(dataDir: string): number | null {
  let text: string;
  try {
    text = readFileSync(join(dataDir, PID_FILE), 'utf8');
  } catch {
    return null;
  }
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid) ? pid : null;
}

export function writePidFile(dataDir: string): void {
  writeFileSync(join(dataDir, PID_FILE), `${process.pid}\n`, { mode: 0o600 });
}

export function removePidFile(dataDir: string): void {
  try {
    if (readFileSync(join(dataDir, PID_FILE), 'utf8').trim() === String(process.pid)) rmSync(join(dataDir, PID_FILE));
  } catch {
    /* already gone */
  }
}
