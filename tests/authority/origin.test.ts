/**
 * Cross-site WebSocket hijacking: a page on another site must not reach the authority from an
 * employee's browser. The attack is performed twice: by a raw client sending the Origin a
 * browser would send, and by real Chromium on a page served from another origin. Also HSTS.
 */
import { get as httpsGet } from 'node:https';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WsClient from 'ws';
import type { Browser } from 'playwright-core';
import { canonicalOrigin, DESKTOP_APP_ORIGIN, originAllowed } from '../../authority/src/origins.js';
import { parseCommandLine } from '../../authority/src/config.js';
import { APP_ORIGIN } from '../../desktop/src/main/security.js';
import { finishRegistration, startRegistration } from '../../shared/crypto/opaque.js';
import type { OpaqueKsf } from '../../shared/protocol/index.js';
import { PASSWORD, startAuthority, uniqueName, type TestAuthority } from '../helpers/authority.js';
import { LOADED_MS } from '../helpers/timing.js';
import { launchChromium, originOf } from '../e2e/support/web.js';

let t: TestAuthority;
beforeAll(async () => {
  t = await startAuthority({ allowOrigins: ['https://intranet.example'] });
});
afterAll(async () => {
  await t.cleanup();
});

type Outcome = { opened: true; reply: { ok?: boolean; error?: { code: string } } } | { opened: false; status: number };

/** Opens the socket as a browser would from `origin`, then tries to start registering `name` (its first half: nothing is made yet). */
async function attempt(origin: string | undefined, name: string): Promise<Outcome> {
  const { request } = await startRegistration(PASSWORD);
  return new Promise((resolve, reject) => {
    const ws = new WsClient(t.url, { rejectUnauthorized: false, ...(origin === undefined ? {} : { origin }) });
    ws.once('unexpected-response', (_req, res) => {
      resolve({ opened: false, status: res.statusCode ?? 0 });
      res.resume();
      ws.terminate();
    });
    ws.once('open', () => ws.send(JSON.stringify({ id: 1, type: 'registerStart', username: name, registrationRequest: request })));
    ws.once('message', (data) => {
      resolve({ opened: true, reply: JSON.parse(data.toString()) });
      ws.close();
    });
    ws.once('error', (err) => {
      if (!String(err.message).includes('Unexpected server response')) reject(err);
    });
  });
}

describe('which origins may open a WebSocket', () => {
  it('refuses a page of another site with 403, and nothing is done for it', async () => {
    const name = uniqueName('hijack');
    for (const origin of ['https://evil.example', 'null', `https://evil.example:${new URL(t.url).port}`, 'app://other']) {
      expect(await attempt(origin, name)).toEqual({ opened: false, status: 403 });
    }
    expect(t.authority.store.users.byName(name)).toBeUndefined();
    expect(t.logs.some((l) => l.includes('ws_origin_refused') && l.includes('evil.example'))).toBe(true);
  });

  it('accepts the authority’s own origin, the desktop app, a configured origin and non-browser clients', async () => {
    const own = originOf(t.url).replace(/\/$/, '');
    for (const origin of [own, DESKTOP_APP_ORIGIN, 'https://intranet.example', undefined]) {
      const r = await attempt(origin, uniqueName('fine'));
      expect(r.opened, `origin ${origin}`).toBe(true);
      if (r.opened) expect(r.reply.ok, `origin ${origin}`).toBe(true);
    }
  });

  it('knows the desktop app by the origin the app really has', () => {
    expect(DESKTOP_APP_ORIGIN).toBe(APP_ORIGIN);
  });

  it('without TLS, a DNS-rebinding page (its own name on our address) is not "same origin"', () => {
    const plain = { tls: false, allowed: [] };
    expect(originAllowed('http://127.0.0.1:8080', '127.0.0.1:8080', plain)).toBe(true);
    expect(originAllowed('http://localhost:8080', 'localhost:8080', plain)).toBe(true);
    expect(originAllowed('http://[::1]:8080', '[::1]:8080', plain)).toBe(true);
    expect(originAllowed('http://evil.example:8080', 'evil.example:8080', plain)).toBe(false);
    // With TLS the browser checks the certificate's name, so the Host names what the admin deployed.
    expect(originAllowed('https://chat.corp:8443', 'chat.corp:8443', { tls: true, allowed: [] })).toBe(true);
    expect(originAllowed('http://chat.corp:8443', 'chat.corp:8443', { tls: true, allowed: [] })).toBe(false);
    expect(originAllowed('https://chat.corp', 'chat.corp:443', { tls: true, allowed: [] })).toBe(true);
  });

  it('takes --allow-origin as a list of bare origins and refuses anything else', () => {
    const ok = parseCommandLine(['--allow-origin', 'https://Intranet.example:8443/, http://wiki.corp'], false);
    expect(ok.kind === 'serve' && ok.config.allowOrigins).toEqual(['https://intranet.example:8443', 'http://wiki.corp']);
    for (const bad of ['intranet.example', 'https://x.example/path', 'ftp://x.example', 'https://u:p@x.example']) {
      const r = parseCommandLine(['--allow-origin', bad], false);
      expect(r.kind, bad).toBe('error');
      if (r.kind === 'error') expect(r.message).toContain('--allow-origin');
    }
    expect(canonicalOrigin('null')).toBeNull();
  });
});

describe('in a real browser', () => {
  let browser: Browser;
  let evil: Server;
  let evilOrigin: string;
  beforeAll(async () => {
    browser = await launchChromium(t.spkiHash!);
    evil = createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>cats</title>'));
    await new Promise<void>((r) => evil.listen(0, '127.0.0.1', r));
    evilOrigin = `http://127.0.0.1:${(evil.address() as AddressInfo).port}`;
  }, LOADED_MS);
  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => evil?.close(r));
  });

  /**
   * In the page: open the authority's socket, try to register (both halves of OPAQUE; the
   * client's arithmetic is done here in Node through an exposed function), report the last reply.
   */
  async function fromPage(pageUrl: string, name: string): Promise<{ opened: boolean; reply: string | null }> {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const started = await startRegistration(PASSWORD);
      await page.exposeFunction('recordFor', async (response: string, ksf: OpaqueKsf) => {
        const done = await finishRegistration(started, response, PASSWORD, ksf);
        return done?.record ?? '';
      });
      await page.goto(pageUrl);
      return await page.evaluate(
        ({ url, name, request }) =>
          new Promise<{ opened: boolean; reply: string | null }>((resolve) => {
            const recordFor = (window as unknown as { recordFor: (r: string, k: unknown) => Promise<string> }).recordFor;
            const ws = new WebSocket(url);
            let opened = false;
            ws.onopen = () => {
              opened = true;
              ws.send(JSON.stringify({ id: 1, type: 'registerStart', username: name, registrationRequest: request }));
            };
            ws.onmessage = async (e) => {
              const reply = JSON.parse(String(e.data)) as { re: number; ok: boolean; result?: { registrationResponse: string; ksf: unknown } };
              if (reply.re === 1 && reply.ok && reply.result) {
                const record = await recordFor(reply.result.registrationResponse, reply.result.ksf);
                ws.send(JSON.stringify({ id: 2, type: 'registerFinish', registrationRecord: record }));
                return;
              }
              resolve({ opened, reply: String(e.data) });
              ws.close();
            };
            ws.onclose = () => resolve({ opened, reply: null });
          }),
        { url: t.url, name, request: started.request },
      );
    } finally {
      await context.close();
    }
  }

  it('a page on another site cannot register from the employee’s browser; the served client can', async () => {
    const victimName = uniqueName('csrf');
    expect(await fromPage(`${evilOrigin}/`, victimName)).toEqual({ opened: false, reply: null });
    expect(t.authority.store.users.byName(victimName)).toBeUndefined();

    const ownName = uniqueName('own');
    const own = await fromPage(originOf(t.url), ownName);
    expect(own.opened).toBe(true);
    expect(JSON.parse(own.reply!).ok).toBe(true);
    expect(t.authority.store.users.byName(ownName)).toBeDefined();
  }, LOADED_MS * 2);
});

describe('HSTS', () => {
  it('is sent on every HTTPS response', async () => {
    const u = new URL(originOf(t.url));
    for (const path of ['/', '/health', '/api/export']) {
      const header = await new Promise<string | undefined>((resolve, reject) => {
        httpsGet({ host: u.hostname, port: u.port, path, rejectUnauthorized: false }, (res) => {
          res.resume();
          resolve(res.headers['strict-transport-security'] as string | undefined);
        }).on('error', reject);
      });
      expect(header, path).toBe('max-age=31536000');
    }
  });
});
