/**
 * "My data" in the settings (GDPR), in real Chromium against a real authority: the export
 * downloads one JSON file with the user's room messages and this device's DM history (or says
 * in the file why the DMs are not there), and the account deletion asks for the password, then
 * leaves nothing behind — the login screen, with the name now unknown. Screenshots of the
 * section and of the confirmation, in both languages and both themes.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Download, Page } from 'playwright-core';
import { PASSWORD, startAuthority, uniqueName, until, type TestAuthority } from '../helpers/authority.js';
import { DEFAULT_OPAQUE_KSF } from '../../shared/protocol/index.js';
import { closeAll, dmUser, receivedText, type DmUser } from '../dm/helpers.js';
import { buildWebClient, launchChromium, login, openApp, originOf, register, screenshot, shellReady, UI_TIMEOUT_MS, type AppPage } from './support/web.js';
import { visualProblems, type VisualProblem } from './support/visual.js';

type Lang = 'fr' | 'en';
const COMBOS: Array<[Lang, 'light' | 'dark']> = [
  ['fr', 'light'],
  ['fr', 'dark'],
  ['en', 'light'],
  ['en', 'dark'],
];
const W = {
  fr: { settings: 'Paramètres', language: 'Langue', export: 'Exporter mes données', delete: 'Supprimer mon compte' },
  en: { settings: 'Settings', language: 'Language', export: 'Export my data', delete: 'Delete my account' },
};

const ROOM_TEXT = 'Compte rendu envoyé à tout le service.';
const DM_TEXT = "Un secret pour l'export";

let web: Awaited<ReturnType<typeof buildWebClient>>;
let t: TestAuthority;
let browser: Browser;
let app: AppPage;
let pal: DmUser;
const me = uniqueName('rgpd');
const found: Array<VisualProblem & { screen: string }> = [];

interface ExportFile {
  format: string;
  server: { account: { username: string }; roomMessages: { room: string; text: string }[]; friends: { username: string }[] };
  device: {
    directMessages: { user: string; messages: { peer: string; direction: string; text: string }[] } | null;
    directMessagesNotIncluded?: { reason: string; explanation: string };
  };
}

/** Clicks "Export my data" in the open settings and reads the file Chromium saved. */
async function exportFile(page: Page, lang: Lang = 'fr'): Promise<{ download: Download; file: ExportFile }> {
  const dialog = page.locator('dialog[open]');
  const [download] = await Promise.all([page.waitForEvent('download'), dialog.getByRole('button', { name: W[lang].export }).click()]);
  const path = await download.path();
  return { download, file: JSON.parse(readFileSync(path, 'utf8')) as ExportFile };
}

/** This browser profile's sealed DM files (IndexedDB), by name. */
function dmFiles(page: Page): Promise<string[]> {
  return page.evaluate(
    () =>
      new Promise<string[]>((resolve, reject) => {
        const r = indexedDB.open('chandler-dm');
        r.onerror = () => reject(r.error);
        r.onsuccess = () => {
          const db = r.result;
          if (!db.objectStoreNames.contains('files')) {
            db.close();
            resolve([]);
            return;
          }
          const keys = db.transaction('files', 'readonly').objectStore('files').getAllKeys();
          keys.onsuccess = () => {
            db.close();
            resolve(keys.result.map(String).sort());
          };
          keys.onerror = () => reject(keys.error);
        };
      }),
  );
}

async function openSettings(page: Page, lang: Lang = 'fr'): Promise<void> {
  await page.getByRole('button', { name: W[lang].settings }).click();
  await page.getByTestId('my-data').waitFor();
}

async function closeDialog(page: Page): Promise<void> {
  await page.keyboard.press('Escape');
  await page.locator('dialog[open]').waitFor({ state: 'detached' });
}

async function shoot(page: Page, name: string): Promise<void> {
  await screenshot(page, name);
  for (const p of await visualProblems(page)) found.push({ ...p, screen: name });
}

beforeAll(async () => {
  web = await buildWebClient();
  // One test runs in the desktop shell, which takes no less key stretching than the default (App.tsx: minKsf).
  t = await startAuthority({ webRoot: web.dir, opaqueKsf: DEFAULT_OPAQUE_KSF });
  browser = await launchChromium(t.spkiHash!);
  pal = await dmUser(t, { name: uniqueName('pal') });
}, 180_000);

afterAll(async () => {
  await app?.context.close().catch(() => undefined);
  await closeAll();
  await browser?.close();
  await t?.cleanup();
  web?.remove();
}, 60_000);

describe('my data, in the settings', () => {
  it("exports the user's room message and a DM sent earlier as one JSON download", async () => {
    app = await openApp(browser, originOf(t.url));
    const { page } = app;
    await register(page, me, PASSWORD);
    await shellReady(page);

    await pal.client.call('requestFriend', { username: me });
    await page.getByRole('button', { name: /Gérer les amis/ }).click();
    await page.getByTestId(`incoming-${pal.name}`).getByRole('button', { name: 'Accepter' }).click();
    // The page has unlocked its DM keys and published them (the friend fetches them on the first DM).
    await expect.poll(async () => (await pal.client.call('fetchKeys', { username: me })).ok, { timeout: UI_TIMEOUT_MS }).toBe(true);
    await page.getByTestId(`friend-${pal.name}`).click();
    await page.getByTestId('composer').fill(DM_TEXT);
    await page.getByTestId('composer').press('Enter');
    await receivedText(pal, DM_TEXT);

    await page.getByTestId('room-Général').click();
    await page.getByTestId('composer').fill(ROOM_TEXT);
    await page.getByTestId('composer').press('Enter');
    const mine = page.getByTestId('timeline').locator('article.msg').filter({ hasText: ROOM_TEXT });
    await expect.poll(() => mine.getAttribute('data-status'), { timeout: UI_TIMEOUT_MS }).toBe('sent');

    await openSettings(page);
    const { download, file } = await exportFile(page);
    expect(download.suggestedFilename()).toMatch(new RegExp(`^chandler-export-${me}-\\d{4}-\\d{2}-\\d{2}\\.json$`));
    expect(file.format).toBe('chandler-export-v1');
    expect(file.server.account.username).toBe(me);
    expect(file.server.roomMessages).toContainEqual(expect.objectContaining({ room: 'Général', text: ROOM_TEXT }));
    expect(file.server.friends.map((f) => f.username)).toEqual([pal.name]);
    expect(file.device.directMessages?.user).toBe(me);
    expect(file.device.directMessages?.messages).toContainEqual(expect.objectContaining({ peer: pal.name, direction: 'out', text: DM_TEXT }));
    expect(file.device.directMessagesNotIncluded).toBeUndefined();
    const said = `Vos données sont enregistrées dans ${download.suggestedFilename()}.`;
    expect(await page.getByTestId('export-status').textContent()).toBe(said);
    await page.locator('.toast').filter({ hasText: said }).waitFor();
    await closeDialog(page);
  }, 60_000);

  it('after a resumed session the DMs are locked: the file says they are missing and why, and so does the app', async () => {
    const { page } = app;
    await page.reload();
    await shellReady(page);
    await page.getByTestId(`friend-${pal.name}`).click();
    await page.getByTestId('dm-unlock').waitFor();

    await openSettings(page);
    const { file } = await exportFile(page);
    expect(file.server.roomMessages).toContainEqual(expect.objectContaining({ text: ROOM_TEXT }));
    expect(file.device.directMessages).toBeNull();
    expect(file.device.directMessagesNotIncluded?.reason).toBe('locked');
    expect(file.device.directMessagesNotIncluded?.explanation).toMatch(/verrouillés au moment de l'export/);
    expect(await page.getByTestId('export-status').textContent()).toMatch(/, sans vos messages privés : ils sont verrouillés\. Ouvrez une conversation/);
    await page.locator('.toast').filter({ hasText: 'ils sont verrouillés' }).waitFor();
    await page.locator('dialog[open]').evaluate((d) => d.scrollTo({ top: d.scrollHeight }));
    await shoot(page, 'settings-my-data-exported-fr-light');
    await closeDialog(page);

    // Unlocked again for what follows: the deletion then erases an open history.
    const unlock = page.getByTestId('dm-unlock');
    await unlock.getByLabel('Mot de passe').fill(PASSWORD);
    await unlock.getByRole('button', { name: 'Déverrouiller' }).click();
    await page.getByText(DM_TEXT).waitFor();
  }, 45_000);

  it('screens: the section and the confirmation, in both languages and both themes', async () => {
    const { page } = app;
    for (const dismiss of await page.locator('.toast').getByRole('button', { name: 'Fermer la notification' }).all()) await dismiss.click();
    await page.locator('.toast').first().waitFor({ state: 'detached' });
    let lang: Lang = 'fr';
    for (const [next, scheme] of COMBOS) {
      await page.emulateMedia({ colorScheme: scheme });
      if (next !== lang) {
        await page.getByRole('button', { name: W[lang].settings }).click();
        await page.getByLabel(W[lang].language).selectOption(next);
        await closeDialog(page);
        lang = next;
      }
      await openSettings(page, lang);
      await page.locator('dialog[open]').evaluate((d) => d.scrollTo({ top: d.scrollHeight }));
      await shoot(page, `settings-my-data-${lang}-${scheme}`);
      // Keyboard: Tab reaches the delete button, Enter opens the confirmation with the password focused.
      await page.locator('dialog[open]').getByRole('button', { name: W[lang].export }).focus();
      await page.keyboard.press('Tab');
      await page.keyboard.press('Enter');
      const confirm = page.getByTestId('delete-account');
      await confirm.waitFor();
      expect(await page.evaluate(() => (document.activeElement as HTMLInputElement | null)?.type)).toBe('password');
      await shoot(page, `delete-account-${lang}-${scheme}`);
      await page.keyboard.press('Escape');
      await confirm.waitFor({ state: 'detached' });
      await closeDialog(page);
    }
    await page.getByRole('button', { name: W.en.settings }).click();
    await page.getByLabel(W.en.language).selectOption('fr');
    await closeDialog(page);
    await page.emulateMedia({ colorScheme: 'light' });
    expect(found.map((f) => `${f.kind}: "${f.text}" ${f.detail} [${f.screen}]`)).toEqual([]);
  }, 60_000);

  it('in the desktop shell, the export comes through the bridge (main fetches it with the pin)', async () => {
    const desk = await openApp(browser, originOf(t.url));
    try {
      // The preload's bridge, stood in for in the page; its exportData does what main does: GET /api/export with the token.
      await desk.context.addInitScript((server: { url: string; fingerprint: string }) => {
        (window as unknown as { chandlerDesktop: unknown }).chandlerDesktop = {
          platform: 'linux',
          getServer: async () => ({ ...server, preset: true }),
          chooseServer: async () => ({ ok: false, reason: 'preset' }),
          forgetServer: async () => false,
          notify: () => undefined,
          onNotificationClicked: () => () => undefined,
          secretGet: async (name: string) => sessionStorage.getItem(`bridge.secret.${name}`),
          secretSet: async (name: string, value: string) => (sessionStorage.setItem(`bridge.secret.${name}`, value), true),
          secretDelete: async (name: string) => (sessionStorage.removeItem(`bridge.secret.${name}`), true),
          exportData: async (token: string) => {
            sessionStorage.setItem('bridge.exportToken', token);
            const res = await fetch('/api/export', { headers: { Authorization: `Bearer ${token}` } });
            return res.status === 200 ? { ok: true, body: await res.text() } : { ok: false, reason: 'refused', status: res.status };
          },
        };
      }, { url: t.url, fingerprint: t.fingerprint! });
      const { page } = desk;
      await page.reload();
      const name = uniqueName('deskdata');
      await register(page, name, PASSWORD);
      await shellReady(page);
      await openSettings(page);
      const { file } = await exportFile(page);
      expect(file.server.account.username).toBe(name);
      expect(file.device.directMessages?.user).toBe(name);
      const [sent, kept] = await page.evaluate(() => [sessionStorage.getItem('bridge.exportToken'), sessionStorage.getItem('bridge.secret.session-token')]);
      expect(sent).toMatch(/^[A-Za-z0-9_-]{16,128}$/);
      expect(sent).toBe(kept); // the session's own token, as the app keeps it through the bridge
      expect(desk.problems).toEqual([]);
    } finally {
      await desk.context.close();
    }
  }, 30_000);

  it('deletes the account with the right password only, then the name is unknown', async () => {
    const { page } = app;
    expect(await dmFiles(page)).toEqual(expect.arrayContaining([`dm-history-${me}.sealed`, `identity-${me}.json`]));
    await openSettings(page);
    await page.locator('dialog[open]').getByRole('button', { name: 'Supprimer mon compte' }).click();
    const confirm = page.getByTestId('delete-account');
    await confirm.getByText('Vos messages dans les salons sont effacés, pour tout le monde.').waitFor();
    const password = confirm.getByLabel('Votre mot de passe, pour confirmer');
    await password.fill('not-my-password!');
    await confirm.getByRole('button', { name: 'Supprimer définitivement' }).click();
    expect(await confirm.getByTestId('delete-password-error').textContent()).toBe('Mot de passe incorrect.');
    expect(await password.getAttribute('aria-invalid')).toBe('true');

    await password.fill(PASSWORD);
    await password.press('Enter');
    await page.getByRole('tab', { name: 'Se connecter' }).waitFor();
    expect(await page.getByTestId('form-notice').textContent()).toBe('Votre compte a été supprimé, ainsi que vos messages privés sur cet appareil.');
    await shoot(page, 'account-deleted-fr-light');
    expect(await dmFiles(page)).toEqual([]);
    // The friend hears of it: the friendship is gone on the server.
    await until(() => !pal.client.friends.some((f) => f.username === me), `${pal.name} no longer lists ${me}`, UI_TIMEOUT_MS);

    await login(page, me, PASSWORD);
    await page.getByTestId('form-error').getByText('Identifiant ou mot de passe incorrect.').waitFor();
    await page.reload();
    await page.getByRole('tab', { name: 'Se connecter' }).waitFor();
    expect(await page.locator('nav.sidebar').count()).toBe(0);
    expect(app.problems).toEqual([]);
  }, 45_000);
});
