/**
 * Trust on first use for authority certificates, like ssh's known_hosts: one line per
 * `host:port fingerprint` in $CHANDLER_HOME/known_hosts (default ~/.chandler).
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { normalizeFingerprint } from '../shared/protocol/index.js';

export function chandlerHome(): string {
  return process.env.CHANDLER_HOME ?? join(homedir(), '.chandler');
}

function file(): string {
  return join(chandlerHome(), 'known_hosts');
}

export function hostKey(url: URL): string {
  return `${url.hostname}:${url.port || (url.protocol === 'wss:' ? '443' : '80')}`;
}

export function knownFingerprint(url: URL): string | null {
  if (!existsSync(file())) return null;
  const key = hostKey(url);
  for (const line of readFileSync(file(), 'utf8').split('\n')) {
    const [host, fp] = line.trim().split(/\s+/);
    if (host === key && fp) return normalizeFingerprint(fp);
  }
  return null;
}

export function rememberFingerprint(url: URL, fingerprint: string): void {
  mkdirSync(chandlerHome(), { recursive: true, mode: 0o700 });
  appendFileSync(file(), `${hostKey(url)} ${fingerprint}\n`, { mode: 0o600 });
}
