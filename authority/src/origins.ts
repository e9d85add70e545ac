/**
 * Which pages may open a WebSocket to the authority. A browser sends the page's Origin with
 * every WebSocket handshake and lets any site open one (no same-origin rule applies), so
 * without this check a page on any site an employee visits could register accounts or spray
 * logins from the employee's address. Allowed:
 * - no Origin at all: the CLI and other non-browser clients (not a page someone else wrote);
 * - the authority's own origin: the web client it serves;
 * - the desktop app's origin (app://chandler);
 * - the origins the admin listed with --allow-origin.
 * Without TLS (loopback only) the Host must be a loopback name too, or a DNS-rebinding page
 * (evil.example resolving to 127.0.0.1) would pass as "same origin".
 */
import { isLoopback } from './addresses.js';

/** The Electron app's page origin (desktop/src/main/security.ts APP_ORIGIN). */
export const DESKTOP_APP_ORIGIN = 'app://chandler';

/** "https://chat.example:8443" → its canonical form; null when it is not a bare origin. */
export function canonicalOrigin(text: string): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  if (!['http:', 'https:', 'app:'].includes(url.protocol)) return null;
  if (url.username || url.password || url.search || url.hash || (url.pathname !== '/' && url.pathname !== '')) return null;
  if (!url.host) return null;
  return `${url.protocol}//${url.host}`;
}

export interface OriginRule {
  tls: boolean;
  /** Canonical origins from --allow-origin. */
  allowed: readonly string[];
}

export function originAllowed(origin: string | undefined, host: string | undefined, rule: OriginRule): boolean {
  if (origin === undefined) return true;
  const page = canonicalOrigin(origin);
  if (page === null) return false; // "null" (a sandboxed or file page), garbage
  if (page === DESKTOP_APP_ORIGIN || rule.allowed.includes(page)) return true;
  if (!host) return false;
  const own = canonicalOrigin(`${rule.tls ? 'https' : 'http'}://${host}`);
  if (own === null || own !== page) return false;
  return rule.tls || isLoopback(new URL(own).hostname.replace(/^\[|\]$/g, ''));
}
