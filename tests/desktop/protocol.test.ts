/** app:// serves the renderer's files only, each with the CSP. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { handleAppProtocol, resolveAppFile } from '../../desktop/src/main/protocol.js';

const root = mkdtempSync(join(tmpdir(), 'chandler-app-'));
mkdirSync(join(root, 'assets'));
writeFileSync(join(root, 'index.html'), '<!doctype html><div id="root"></div>');
writeFileSync(join(root, 'assets', 'app.js'), 'console.log(1)');
writeFileSync(join(root, '..', 'chandler-secret.txt'), 'secret');

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(join(root, '..', 'chandler-secret.txt'), { force: true });
});

describe('app:// file resolution', () => {
  it('maps app://chandler/ paths into the renderer directory', () => {
    expect(resolveAppFile(root, 'app://chandler/')).toBe(join(root, 'index.html'));
    expect(resolveAppFile(root, 'app://chandler/assets/app.js')).toBe(join(root, 'assets', 'app.js'));
    expect(resolveAppFile(root, 'app://chandler/friends')).toBe(join(root, 'index.html'));
  });

  it('never leaves it, whatever the encoding', () => {
    for (const url of [
      'app://chandler/../chandler-secret.txt',
      'app://chandler/..%2fchandler-secret.txt',
      'app://chandler/%2e%2e/chandler-secret.txt',
      'app://chandler/assets/..%2f..%2fchandler-secret.txt',
      'app://chandler/%2e%2e%5cchandler-secret.txt',
    ]) {
      const file = resolveAppFile(root, url);
      expect(file === null || file.startsWith(root + sep), url).toBe(true);
      expect(file).not.toBe(join(root, '..', 'chandler-secret.txt'));
    }
  });

  it('refuses other hosts, other schemes, bad escapes and NUL bytes', () => {
    expect(resolveAppFile(root, 'app://evil/index.html')).toBeNull();
    expect(resolveAppFile(root, 'file:///etc/passwd')).toBeNull();
    expect(resolveAppFile(root, 'app://chandler/%E0%A4%A')).toBeNull();
    expect(resolveAppFile(root, 'app://chandler/index.html%00.js')).toBeNull();
    expect(resolveAppFile(root, 'not a url')).toBeNull();
  });
});

describe('app:// responses', () => {
  let handler: ((req: Request) => Promise<Response>) | null = null;
  handleAppProtocol(
    { handle: (_scheme: string, fn: (req: Request) => Promise<Response>) => void (handler = fn) } as never,
    root,
    () => "default-src 'none'",
  );

  it('carries the CSP, the right type and nosniff', async () => {
    const res = await handler!(new Request('app://chandler/assets/app.js'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toBe("default-src 'none'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await res.text()).toBe('console.log(1)');
  });

  it('answers 404 for what is not there or not allowed', async () => {
    expect((await handler!(new Request('app://chandler/assets/missing.js'))).status).toBe(404);
    expect((await handler!(new Request('app://evil/index.html'))).status).toBe(404);
  });
});
