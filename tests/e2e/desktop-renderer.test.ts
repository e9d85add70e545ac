/**
 * The renderer as the Electron app runs it, in real Chromium against a real authority: the
 * preload bridge (`window.chandlerDesktop`, the Electron side) is stood in for by a small
 * in-page implementation kept in sessionStorage, so the first-start server screen, the token
 * kept through the bridge's encrypted storage, and notifications through the bridge are exercised.
 * The page's files come as Electron's app:// protocol serves them, with the desktop's CSP, so that
 * what that CSP allows (OPAQUE's WebAssembly at login) and refuses shows here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { handleAppProtocol } from '../../desktop/src/main/protocol.js';
import { APP_ORIGIN, contentSecurityPolicy } from '../../desktop/src/main/security.js';
import { join } from 'node:path';
import { CERT_FILE, KEY_FILE } from '../../authority/src/tls.js';
import { PASSWORD, registered, startAuthority, uniqueName, type TestAuthority } from '../helpers/authority.js';
import type { ChandlerClient } from '../../shared/client/index.js';
import { DEFAULT_OPAQUE_KSF } from '../../shared/protocol/index.js';
import { buildWebClient, launchChromium, login, openApp, originOf, screenshot, shellReady, UI_TIMEOUT_MS, type AppPage } from './support/web.js';

let web: Awaited<ReturnType<typeof buildWebClient>>;
let t: TestAuthority;
let browser: Browser;
let app: AppPage;
const clients: ChandlerClient[] = [];
const me = uniqueName('desk');

/** Runs in the page before its scripts: the bridge the preload would expose. */
function installBridge(server: { url: string; fingerprint: string }): void {
  const get = <T,>(k: string): T | null => JSON.parse(sessionStorage.getItem(k) ?? 'null') as T | null;
  const put = (k: string, v: unknown) => sessionStorage.setItem(k, JSON.stringify(v));
  (window as unknown as { chandlerDesktop: unknown }).chandlerDesktop = {
    platform: 'linux',
    getServer: async () => get('bridge.server'),
    chooseServer: async ({ address }: { address: string }) => {
      if (!/^127\.0\.0\.1:\d+$/.test(address)) return { ok: false, reason: 'invalid-address' };
      const chosen = { ...server, preset: false };
      put('bridge.server', chosen);
      return { ok: true, server: chosen };
    },
    forgetServer: async () => (sessionStorage.removeItem('bridge.server'), true),
    notify: (n: unknown) => put('bridge.notified', [...(get<unknown[]>('bridge.notified') ?? []), n]),
    onNotificationClicked: () => () => undefined,
    secretGet: async (name: string) => get<Record<string, string>>('bridge.secrets')?.[name] ?? null,
    secretSet: async (name: string, value: string) => (put('bridge.secrets', { ...(get<Record<string, string>>('bridge.secrets') ?? {}), [name]: value }), true),
    secretDelete: async (name: string) => {
      const all = get<Record<string, string>>('bridge.secrets') ?? {};
      delete all[name];
      put('bridge.secrets', all);
      return true;
    },
  };
}

/**
 * Answers the page's requests for its own files with desktop/src/main/protocol.ts's app://
 * handler, CSP included (as it is once the server is chosen: the page connects to nothing before).
 */
async function serveAsDesktop(context: BrowserContext, origin: string, serverUrl = t.url): Promise<void> {
  let handler: ((req: Request) => Promise<Response>) | null = null;
  handleAppProtocol(
    { handle: (_scheme: string, fn: (req: Request) => Promise<Response>) => void (handler = fn) } as never,
    web.dir,
    () => contentSecurityPolicy(serverUrl),
  );
  await context.route(`${origin}**`, async (route) => {
    const res = await handler!(new Request(`${APP_ORIGIN}${new URL(route.request().url()).pathname}`));
    await route.fulfill({ status: res.status, headers: Object.fromEntries(res.headers), body: Buffer.from(await res.arrayBuffer()) });
  });
}

function bridgeState<T>(page: Page, key: string): Promise<T | null> {
  return page.evaluate((k) => JSON.parse(sessionStorage.getItem(k) ?? 'null'), key) as Promise<T | null>;
}

beforeAll(async () => {
  web = await buildWebClient();
  // The desktop app takes no less key stretching than the default (App.tsx: minKsf).
  t = await startAuthority({ webRoot: web.dir, opaqueKsf: DEFAULT_OPAQUE_KSF });
  // A page whose files the test answers (serveAsDesktop) has no network address, so Chromium's
  // Local Network Access checks would take it for a public site and refuse its socket to
  // 127.0.0.1. This file is about the CSP and the bridge, not those checks: they are off here.
  browser = await launchChromium(t.spkiHash!, ['--disable-features=LocalNetworkAccessChecks']);
  clients.push(await registered(t, me));
  clients[0]!.close();
}, 180_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await app?.context.close().catch(() => undefined);
  await browser?.close();
  await t?.cleanup();
  web?.remove();
}, 60_000);

describe('the renderer inside the desktop shell', () => {
  it('asks for the server on first start, then logs in to it', async () => {
    app = await openApp(browser, originOf(t.url));
    await app.context.addInitScript(installBridge, { url: t.url, fingerprint: t.fingerprint! });
    await serveAsDesktop(app.context, originOf(t.url));
    const { page } = app;
    const served = await page.reload();
    expect(served!.headers()['content-security-policy']).toBe(contentSecurityPolicy(t.url));

    const address = page.getByLabel('Adresse du serveur');
    await address.waitFor();
    await screenshot(page, 'desktop-server-fr-light');
    await address.fill('pas une adresse');
    await page.getByRole('button', { name: 'Continuer' }).click();
    await page.getByText("Cette adresse n'est pas valide.").waitFor();

    await address.fill(`127.0.0.1:${new URL(t.url).port}`);
    await page.getByRole('button', { name: 'Continuer' }).click();
    await page.getByText(`Serveur : 127.0.0.1:${new URL(t.url).port}`).waitFor();
    await login(page, me, PASSWORD);
    await shellReady(page);
    expect(await bridgeState<Record<string, string>>(page, 'bridge.secrets')).toEqual({ 'session-token': expect.any(String) });
  }, 60_000);

  it('refuses a server that asks for less key stretching than the desktop app takes, and says so', async () => {
    // Another authority with the tests' cheap stretching (and the same certificate, which this
    // Chromium trusts): a copy of its files would be cheaper to attack, so the app will not log in.
    // The page stands in for app:// at the first authority's origin: the second one lets it in.
    const weak = await startAuthority({
      certFile: join(t.dataDir, CERT_FILE),
      keyFile: join(t.dataDir, KEY_FILE),
      allowOrigins: [new URL(originOf(t.url)).origin],
    });
    const name = uniqueName('weakksf');
    clients.push(await registered(weak, name));
    clients.at(-1)!.close();
    const other = await openApp(browser, originOf(t.url));
    try {
      await other.context.addInitScript(installBridge, { url: weak.url, fingerprint: weak.fingerprint! });
      await serveAsDesktop(other.context, originOf(t.url), weak.url);
      const { page } = other;
      await page.reload();
      const address = page.getByLabel('Adresse du serveur');
      await address.waitFor();
      await address.fill(`127.0.0.1:${new URL(weak.url).port}`);
      await page.getByRole('button', { name: 'Continuer' }).click();
      await login(page, name, PASSWORD);
      await page.getByText('Le serveur demande une protection des mots de passe plus faible').waitFor({ timeout: UI_TIMEOUT_MS });
    } finally {
      await other.context.close();
      await weak.cleanup();
    }
  }, 60_000);

  it('resumes from the token kept by the bridge', async () => {
    const { page } = app;
    await page.reload();
    await shellReady(page);
    await page.getByTestId('room-Général').waitFor();
  }, 60_000);

  it('sends mention notifications through the bridge, and shows the pinned server in the settings', async () => {
    const { page } = app;
    await page.getByRole('button', { name: 'Gérer les amis' }).click();
    const other = await registered(t, uniqueName('caller'));
    clients.push(other);
    await other.settled(other.post('Général', `@${me} on t'attend en salle Everest`));
    await expect
      .poll(() => bridgeState(page, 'bridge.notified'), { timeout: UI_TIMEOUT_MS })
      .toEqual([{ title: `${other.username} vous mentionne dans #Général`, body: `@${me} on t'attend en salle Everest`, target: 'room:Général' }]);

    await page.getByRole('button', { name: 'Paramètres' }).click();
    const dialog = page.locator('dialog[open]');
    await dialog.getByText(t.url).waitFor();
    await dialog.getByText(t.fingerprint!).waitFor();
    await screenshot(page, 'desktop-settings-fr-light');
    await dialog.getByRole('button', { name: 'Changer de serveur' }).click();
    await page.getByLabel('Adresse du serveur').waitFor();
    expect(await bridgeState(page, 'bridge.server')).toBeNull();
    expect(app.problems).toEqual([]);
  }, 60_000);
});
