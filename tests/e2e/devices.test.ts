/**
 * "My devices" in the settings, in real Chromium against a real authority: the browser and a
 * second device of the same user (a Node engine) hold one identity; the section lists both, the
 * browser as "this device", and revokes the other, whose session ends; a new browser gets the DM
 * history from another device of mine, peer-to-peer. Screenshots in both languages.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { PASSWORD, startAuthority, uniqueName, until, type TestAuthority } from '../helpers/authority.js';
import { closeAll, dmUser, friends, receivedText, type DmUser } from '../dm/helpers.js';
import { buildWebClient, launchChromium, login, openApp, originOf, register, screenshot, shellReady, UI_TIMEOUT_MS, type AppPage } from './support/web.js';
import { visualProblems, type VisualProblem } from './support/visual.js';

let web: Awaited<ReturnType<typeof buildWebClient>>;
let t: TestAuthority;
let browser: Browser;
let app: AppPage;
let laptop: DmUser;
const me = uniqueName('devs');
const found: Array<VisualProblem & { screen: string }> = [];

async function shoot(page: Page, name: string): Promise<void> {
  await screenshot(page, name);
  for (const p of await visualProblems(page)) found.push({ ...p, screen: name });
}

async function openDevices(page: Page, settings: string): Promise<ReturnType<Page['getByTestId']>> {
  await page.getByRole('button', { name: settings }).click();
  const section = page.getByTestId('devices');
  await section.waitFor();
  await section.scrollIntoViewIfNeeded();
  return section;
}

beforeAll(async () => {
  web = await buildWebClient();
  t = await startAuthority({ webRoot: web.dir });
  browser = await launchChromium(t.spkiHash!);
}, 180_000);

afterAll(async () => {
  await app?.context.close().catch(() => undefined);
  await closeAll();
  await browser?.close();
  await t?.cleanup();
  web?.remove();
}, 60_000);

describe('my devices, in the settings', () => {
  it('lists the browser and my other device with one identity, and revokes the other one', async () => {
    app = await openApp(browser, originOf(t.url));
    const { page } = app;
    await register(page, me, PASSWORD);
    await shellReady(page);
    // The page has unlocked its DM keys and kept them sealed for my other devices.
    await until(() => t.authority.store.dms.backupOf(t.authority.store.users.byName(me)!.id) !== null, 'the identity kept', UI_TIMEOUT_MS);
    laptop = await dmUser(t, { name: me, register: false, engine: { deviceName: 'CLI on build-01' } });
    const mine = await laptop.client.call('fetchKeys', { username: me });
    expect(mine.ok && mine.value.identity.keyId).toBe(laptop.dm.keyId); // the page published the same key

    const section = await openDevices(page, 'Paramètres');
    const rows = section.getByTestId('device-row');
    await expect.poll(() => rows.count(), { timeout: UI_TIMEOUT_MS }).toBe(2);
    const browserRow = rows.filter({ hasText: 'Cet appareil' });
    expect(await browserRow.locator('.device-name').textContent()).toBe('Chromium on Linux');
    const laptopRow = rows.filter({ hasText: 'CLI on build-01' });
    expect(await laptopRow.textContent()).toContain('En ligne');
    await shoot(page, 'settings-devices-fr-light');

    await laptopRow.getByRole('button', { name: 'Révoquer' }).click();
    await laptopRow.getByRole('button', { name: 'Révoquer cet appareil' }).click();
    await until(() => laptop.client.status === 'closed', "the laptop's session ended", UI_TIMEOUT_MS);
    await expect.poll(() => rows.count(), { timeout: UI_TIMEOUT_MS }).toBe(1);
    await page.locator('.toast').filter({ hasText: 'CLI on build-01 a été révoqué' }).waitFor();
    await page.keyboard.press('Escape');
    await page.locator('dialog[open]').waitFor({ state: 'detached' });
  }, 90_000);

  it('a new browser gets the DM history from my other device, peer-to-peer, and says so', async () => {
    // Owner's first device (Node) talks with a friend; then owner opens the web client in a new profile.
    const [pal, owner] = await friends(t);
    for (const text of ['Premier message', 'Deuxième message', 'Troisième message']) {
      expect((await pal.dm.send(owner.name, text)).ok).toBe(true);
      await receivedText(owner, text);
    }
    const fresh = await openApp(browser, originOf(t.url));
    try {
      const { page } = fresh;
      await login(page, owner.name, PASSWORD);
      await shellReady(page);
      await page.locator('.toast').filter({ hasText: 'est arrivé de votre autre appareil (3 messages)' }).waitFor({ timeout: UI_TIMEOUT_MS });
      await page.getByTestId(`friend-${pal.name}`).click();
      for (const text of ['Premier message', 'Deuxième message', 'Troisième message']) await page.getByText(text).waitFor();
      await shoot(page, 'dm-history-from-device-fr-light');
    } finally {
      await fresh.context.close();
    }
  }, 90_000);

  it('screens: the section in English, dark', async () => {
    const { page } = app;
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.getByRole('button', { name: 'Paramètres' }).click();
    await page.getByLabel('Langue').selectOption('en');
    await page.keyboard.press('Escape');
    await page.locator('dialog[open]').waitFor({ state: 'detached' });
    const section = await openDevices(page, 'Settings');
    await section.getByText('This device').waitFor();
    await shoot(page, 'settings-devices-en-dark');
    expect(found).toEqual([]);
  }, 45_000);
});
