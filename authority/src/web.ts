/**
 * Serves the built web client (the same renderer the desktop app loads) with a strict
 * Content-Security-Policy: no remote content at all, scripts only from this origin. The one
 * allowance beyond that, 'wasm-unsafe-eval', lets OPAQUE's login compile its WebAssembly
 * (carried inside its script); eval and inline script stay forbidden.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { contentTypeOf } from '../../shared/mime.js';

export const DEFAULT_WEB_ROOT = resolve(import.meta.dirname, '..', '..', 'desktop', 'dist', 'renderer');

export const WEB_CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'none'",
].join('; ');

const SECURITY_HEADERS = {
  'Content-Security-Policy': WEB_CSP,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

const NOT_BUILT_PAGE = `<!doctype html><meta charset="utf-8"><title>CHandler</title>
<p>The CHandler authority is running. The web client is not built yet: run <code>npm run build:web</code>
and reload. The desktop client and the CLI connect to <code>/ws</code>.</p>`;

export function serveStatic(webRoot: string | undefined, req: IncomingMessage, res: ServerResponse): void {
  const root = resolve(webRoot ?? DEFAULT_WEB_ROOT);
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD', ...SECURITY_HEADERS }).end();
    return;
  }
  let pathname: string;
  try {
    pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
  } catch {
    res.writeHead(400, SECURITY_HEADERS).end();
    return;
  }
  if (pathname === '/health') {
    res.writeHead(200, { 'Content-Type': 'application/json', ...SECURITY_HEADERS }).end('{"ok":true}');
    return;
  }
  const rel = normalize(pathname === '/' ? '/index.html' : pathname);
  const file = join(root, rel);
  if (!file.startsWith(root + sep) || pathname.includes('\0')) {
    res.writeHead(404, SECURITY_HEADERS).end();
    return;
  }
  const target = existsSync(file) && statSync(file).isFile() ? file : join(root, 'index.html');
  if (!existsSync(target)) {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', ...SECURITY_HEADERS }).end(NOT_BUILT_PAGE);
    return;
  }
  res.writeHead(200, {
    'Content-Type': contentTypeOf(extname(target)),
    'Cache-Control': target.endsWith('index.html') ? 'no-cache' : 'public, max-age=3600',
    ...SECURITY_HEADERS,
  });
  if (req.method === 'HEAD') res.end();
  else createReadStream(target).pipe(res);
}
