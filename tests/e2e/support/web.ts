/**
 * Browser test fixtures: the web client built with Vite's JS API into a temp dir (bounded in
 * time), Debian's Chromium through playwright-core trusting exactly the test authority's
 * self-signed key, and a few page helpers that act as a person would (labels, roles, keys).
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { tempDir } from '../../helpers/authority.js';
import { LOADED_MS, PROCESS_MS } from '../../helpers/timing.js';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const BUILD_TIMEOUT_MS = 4 * PROCESS_MS;
/** How long a person-visible change may take on a loaded 2-core machine. */
export const UI_TIMEOUT_MS = LOADED_MS;
export const SCREENSHOT_DIR = resolve(import.meta.dirname, '..', '..', '..', 'test-results', 'screenshots');

const VITE_CONFIG = resolve(import.meta.dirname, '..', '..', '..', 'desktop', 'vite.config.ts');

/** Builds the renderer (what the authority serves at "/") into a fresh temp dir. */
export async function buildWebClient(): Promise<{ dir: string; remove(): void }> {
  const { build } = await import('vite');
  const dir = tempDir('chandler-web-');
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the web client build took over ${BUILD_TIMEOUT_MS} ms`)), BUILD_TIMEOUT_MS);
  });
  try {
    await Promise.race([build({ configFile: VITE_CONFIG, logLevel: 'error', build: { outDir: dir, emptyOutDir: true } }), deadline]);
  } finally {
    clearTimeout(timer);
  }
  if (!existsSync(join(dir, 'index.html'))) throw new Error('the web client build produced no index.html');
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function launchChromium(spkiHash: string, extraArgs: readonly string[] = []): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`Chromium is missing at ${CHROMIUM_PATH}: apt-get install -y chromium`);
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    timeout: 60_000,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--ignore-certificate-errors-spki-list=${spkiHash}`,
      ...extraArgs,
    ],
  });
}

/** https origin of a wss://host:port/ws authority URL. */
export function originOf(wsUrl: string): string {
  const u = new URL(wsUrl);
  return `https://${u.host}/`;
}

export interface AppPage {
  context: BrowserContext;
  page: Page;
  /** Browser-side problems seen: page errors and CSP violations (a test expects none). */
  problems: string[];
}

export async function openApp(
  browser: Browser,
  origin: string,
  options: { lang?: 'fr' | 'en'; colorScheme?: 'light' | 'dark'; viewport?: { width: number; height: number } } = {},
): Promise<AppPage> {
  const context = await browser.newContext({
    colorScheme: options.colorScheme ?? 'light',
    viewport: options.viewport ?? { width: 1200, height: 760 },
    locale: options.lang === 'en' ? 'en-GB' : 'fr-FR',
    timezoneId: 'Europe/Paris',
  });
  context.setDefaultTimeout(UI_TIMEOUT_MS);
  if (options.lang === 'en') {
    await context.addInitScript(() => {
      if (!localStorage.getItem('chandler.prefs')) {
        localStorage.setItem('chandler.prefs', JSON.stringify({ lang: 'en', theme: 'system', notifications: true }));
      }
    });
  }
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) problems.push(`csp: ${m.text()}`);
  });
  await page.goto(origin);
  return { context, page, problems };
}

const FR = { username: "Nom d'utilisateur", password: 'Mot de passe', registerTab: 'Créer un compte', loginTab: 'Se connecter', register: 'Créer mon compte', login: 'Se connecter' };
const EN = { username: 'Username', password: 'Password', registerTab: 'Create an account', loginTab: 'Log in', register: 'Create my account', login: 'Log in' };

export function words(lang: 'fr' | 'en' = 'fr') {
  return lang === 'en' ? EN : FR;
}

export async function fillCredentials(page: Page, username: string, password: string, lang: 'fr' | 'en' = 'fr'): Promise<void> {
  const w = words(lang);
  await page.getByLabel(w.username).fill(username);
  await page.getByLabel(w.password, { exact: true }).fill(password);
}

export async function register(page: Page, username: string, password: string, lang: 'fr' | 'en' = 'fr'): Promise<void> {
  const w = words(lang);
  await page.getByRole('tab', { name: w.registerTab }).click();
  await fillCredentials(page, username, password, lang);
  await page.getByRole('button', { name: w.register }).click();
}

export async function login(page: Page, username: string, password: string, lang: 'fr' | 'en' = 'fr'): Promise<void> {
  const w = words(lang);
  await page.getByRole('tab', { name: w.loginTab }).click();
  await fillCredentials(page, username, password, lang);
  await page.locator('form').getByRole('button', { name: w.login }).click();
}

/** Waits for the logged-in shell with its sidebar. */
export async function shellReady(page: Page): Promise<void> {
  await expect.poll(() => page.locator('nav.sidebar').count(), { timeout: UI_TIMEOUT_MS }).toBe(1);
}

/** Waits until no finite CSS animation or transition is still running (spinners run forever and do not count). */
export async function animationsSettled(page: Page): Promise<void> {
  await page.waitForFunction(
    () => document.getAnimations().every((a) => a.playState !== 'running' || a.effect?.getTiming().iterations === Infinity),
    undefined,
    { timeout: UI_TIMEOUT_MS },
  );
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await animationsSettled(page);
  await page.screenshot({ path, animations: 'disabled', caret: 'hide' });
  return path;
}

/**
 * Lets the page show notifications and records each one ("title | body"); the returned function
 * reads what was shown so far.
 */
export async function watchNotifications(app: Pick<AppPage, 'page' | 'context'>, origin: string): Promise<() => Promise<string[]>> {
  await app.context.grantPermissions(['notifications'], { origin });
  await app.page.evaluate(() => {
    const Real = window.Notification;
    const seen: string[] = [];
    (window as unknown as { seenNotifications: string[] }).seenNotifications = seen;
    window.Notification = class extends Real {
      constructor(title: string, options?: NotificationOptions) {
        super(title, options);
        seen.push(`${title} | ${options?.body ?? ''}`);
      }
    } as typeof Notification;
  });
  return () => app.page.evaluate(() => (window as unknown as { seenNotifications: string[] }).seenNotifications);
}
