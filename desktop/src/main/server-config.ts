/**
 * Which authority this desktop app talks to, and its pinned certificate fingerprint. Either
 * preset by the IT technician in a config file (the user cannot change it), or chosen by the
 * user on first start and confirmed in a trust-on-first-use dialog, then kept in userData.
 *
 * Config file (JSON): { "server": "chat.entreprise.lan:7443", "fingerprint": "AB:CD:…" }
 * Looked up, first found wins: $CHANDLER_DESKTOP_CONFIG, <resources>/chandler-desktop.json,
 * /etc/chandler/desktop.json (Linux) or %ProgramData%\CHandler\desktop.json (Windows).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isIP } from 'node:net';
import { z } from 'zod';
import { normalizeFingerprint } from '../../../shared/protocol/fingerprint.js';
import type { ServerInfo } from '../ipc/contract.js';

export const DEFAULT_SERVER_PORT = 7443;
export const CONFIG_FILE_NAME = 'chandler-desktop.json';

export const ServerFile = z
  .object({
    server: z.string().min(1).max(300),
    fingerprint: z.string().min(1).max(200),
  })
  .strict();

export interface PinnedServer extends ServerInfo {
  host: string;
  port: number;
}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** "host", "host:port", "https://host:port/", "wss://host:port/ws" → the authority's socket URL. */
export function parseServerAddress(text: string): { host: string; port: number; url: string } | null {
  const trimmed = text.trim();
  if (!trimmed || /\s/.test(trimmed)) return null;
  const withScheme = /^[a-z]+:\/\//i.test(trimmed) ? trimmed : `wss://${trimmed}`;
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch {
    return null;
  }
  if (!['wss:', 'https:'].includes(u.protocol) || u.username || u.password || u.search || u.hash) return null;
  if (u.pathname !== '/' && u.pathname !== '/ws') return null;
  const bare = u.hostname.replace(/^\[|\]$/g, '');
  if (!isIP(bare) && !HOSTNAME.test(bare)) return null;
  const port = u.port ? Number(u.port) : DEFAULT_SERVER_PORT;
  const host = isIP(bare) === 6 ? `[${bare}]` : bare.toLowerCase();
  return { host: bare.toLowerCase(), port, url: `wss://${host}:${port}/ws` };
}

export function presetConfigPaths(env: NodeJS.ProcessEnv, platform: NodeJS.Platform, resourcesPath: string | undefined): string[] {
  const paths: string[] = [];
  if (env.CHANDLER_DESKTOP_CONFIG) paths.push(env.CHANDLER_DESKTOP_CONFIG);
  if (resourcesPath) paths.push(join(resourcesPath, CONFIG_FILE_NAME));
  if (platform === 'win32') paths.push(join(env.ProgramData ?? 'C:\\ProgramData', 'CHandler', 'desktop.json'));
  else paths.push('/etc/chandler/desktop.json');
  return paths;
}

export type ReadResult = { ok: true; server: PinnedServer } | { ok: false; reason: string };

export function readServerFile(path: string, preset: boolean): ReadResult {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    return { ok: false, reason: `${path}: not readable JSON (${(err as Error).message})` };
  }
  const parsed = ServerFile.safeParse(json);
  if (!parsed.success) return { ok: false, reason: `${path}: expected {"server": "...", "fingerprint": "..."}` };
  const address = parseServerAddress(parsed.data.server);
  if (!address) return { ok: false, reason: `${path}: "server" is not a host[:port] address` };
  const fingerprint = normalizeFingerprint(parsed.data.fingerprint);
  if (!fingerprint) return { ok: false, reason: `${path}: "fingerprint" is not a SHA-256 fingerprint` };
  return { ok: true, server: { ...address, fingerprint, preset } };
}

export class ServerStore {
  private cached: PinnedServer | null | undefined;

  constructor(
    private readonly userFile: string,
    private readonly presetPaths: readonly string[],
  ) {}

  /** The preset file when one exists (an invalid one is an error, never silently skipped). */
  preset(): ReadResult | null {
    const path = this.presetPaths.find((p) => existsSync(p));
    return path ? readServerFile(path, true) : null;
  }

  current(): PinnedServer | null {
    if (this.cached !== undefined) return this.cached;
    const preset = this.preset();
    if (preset) this.cached = preset.ok ? preset.server : null;
    else if (existsSync(this.userFile)) {
      const mine = readServerFile(this.userFile, false);
      this.cached = mine.ok ? mine.server : null;
    } else this.cached = null;
    return this.cached;
  }

  save(address: { host: string; port: number; url: string }, fingerprint: string): PinnedServer {
    const server: PinnedServer = { ...address, fingerprint, preset: false };
    mkdirSync(dirname(this.userFile), { recursive: true });
    const tmp = `${this.userFile}.tmp`;
    writeFileSync(tmp, JSON.stringify({ server: `${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`, fingerprint }, null, 2), {
      mode: 0o600,
    });
    renameSync(tmp, this.userFile);
    this.cached = server;
    return server;
  }

  forget(): void {
    rmSync(this.userFile, { force: true });
    this.cached = undefined;
  }
}
