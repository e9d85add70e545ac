/**
 * The web client end to end, as people use it: real Chromium pages against a real authority
 * (TLS, SQLite, WebSockets) serving the built renderer. One story, in order: the page's CSP,
 * errors at login, two people register (OPAQUE's WebAssembly under that CSP), one asks for
 * Informatique and an admin approves it, they chat live, history pages load with no gap, they
 * become friends, exchange an encrypted DM directly, the app rides out a server restart, and
 * someone whose password an admin reset chooses a new one with the reset code.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { adminClient, newClient, PASSWORD, registered, startAuthority, uniqueName, type TestAuthority } from '../helpers/authority.js';
import type { ChandlerClient } from '../../shared/client/index.js';
import { CLOSE_CODES } from '../../shared/protocol/index.js';
import { resetPassword } from '../../authority/src/handlers/moderation.js';
import { buildWebClient, launchChromium, login, openApp, originOf, register, screenshot, shellReady, UI_TIMEOUT_MS, watchNotifications, type AppPage } from './support/web.js';

const HISTORY_MESSAGES = 130;

let web: Awaited<ReturnType<typeof buildWebClient>>;
let t: TestAuthority;
let browser: Browser;
let origin: string;
const pages: AppPage[] = [];
const nodeClients: ChandlerClient[] = [];

const alice = uniqueName('alice');
const bob = uniqueName('bob');
let adminName: string;
let A: AppPage;
let B: AppPage;

async function open(): Promise<AppPage> {
  const p = await openApp(browser, origin);
  pages.push(p);
  return p;
}

function room(page: Page, name: string) {
  return page.getByTestId(`room-${name}`);
}

function messages(page: Page) {
  return page.getByTestId('timeline').locator('article.msg');
}

async function seqsIn(page: Page): Promise<number[]> {
  return page.getByTestId('timeline').locator('article.msg[data-seq]').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-seq'))));
}

beforeAll(async () => {
  web = await buildWebClient();
  t = await startAuthority({
    webRoot: web.dir,
    limits: { messagesPerSecond: 10_000, messageBurst: 10_000 } as TestAuthority['config']['limits'],
  });
  origin = originOf(t.url);
  browser = await launchChromium(t.spkiHash!);
}, 180_000);

afterAll(async () => {
  for (const c of nodeClients) c.close();
  for (const p of pages) await p.context.close().catch(() => undefined);
  await browser?.close();
  await t?.cleanup();
  web?.remove();
}, 60_000);

describe('the web client in Chromium', () => {
  it('is served with a CSP that lets OPAQUE compile its WebAssembly, and allows nothing else more', async () => {
    const { page } = await open();
    const served = await page.reload();
    const csp = served!.headers()['content-security-policy']!;
    const directives = new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k!, v]));
    expect(directives.get('script-src')).toEqual(["'self'", "'wasm-unsafe-eval'"]);
    expect(directives.get('style-src')).toEqual(["'self'"]);
    expect(directives.get('object-src')).toEqual(["'none'"]);
    expect(csp.match(/'[^']*unsafe[^']*'/g)).toEqual(["'wasm-unsafe-eval'"]);
    expect(csp).not.toMatch(/https?:|\*/);
  }, 60_000);

  it('shows a taken username and a wrong password in words next to the field', async () => {
    const taken = await registered(t, uniqueName('taken'));
    nodeClients.push(taken);
    const { page } = await open();

    await register(page, taken.username!, PASSWORD);
    const userError = page.getByTestId('username-error');
    await userError.waitFor();
    expect(await userError.textContent()).toBe("Ce nom d'utilisateur est déjà pris.");

    // A wrong password and an unknown name get the same answer, about the form, not a field.
    await login(page, taken.username!, 'not-the-password!');
    const formError = page.getByTestId('form-error');
    await formError.getByText('Identifiant ou mot de passe incorrect.').waitFor();
    expect(await page.getByTestId('password-error').count()).toBe(0);

    await login(page, uniqueName('ghost'), 'whatever-password!');
    await formError.getByText('Identifiant ou mot de passe incorrect.').waitFor();
    expect(await page.getByTestId('username-error').count()).toBe(0);
  }, 60_000);

  it('shows the password rule while typing and refuses a weak password before sending it', async () => {
    const { page } = await open();
    await page.getByRole('tab', { name: 'Créer un compte' }).click();
    await page.getByLabel("Nom d'utilisateur").fill(uniqueName('weak'));
    const rules = page.locator('.rule');
    await page.getByLabel('Mot de passe', { exact: true }).fill('short');
    expect(await rules.evaluateAll((els) => els.map((e) => e.getAttribute('data-ok')))).toEqual(['false', 'false']);
    await page.getByLabel('Mot de passe', { exact: true }).fill('long-enough-passphrase');
    expect(await rules.evaluateAll((els) => els.map((e) => e.getAttribute('data-ok')))).toEqual(['true', 'true']);
    await page.getByLabel('Mot de passe', { exact: true }).fill('onlylettersandlong');
    await page.getByRole('button', { name: 'Créer mon compte' }).click();
    await page.getByTestId('password-error').waitFor();
    expect(await page.getByTestId('password-error').textContent()).toContain('Mot de passe trop faible');
    // A common password passes the local rules; the authority refuses it and says why.
    await page.getByLabel('Mot de passe', { exact: true }).fill('password123!');
    await page.getByRole('button', { name: 'Créer mon compte' }).click();
    await expect.poll(() => page.getByTestId('password-error').textContent()).toContain('ce mot de passe est trop courant');
  }, 60_000);

  it('two people register in two browsers and land in Général', async () => {
    A = await open();
    B = await open();
    await register(A.page, alice, PASSWORD);
    await register(B.page, bob, PASSWORD);
    await shellReady(A.page);
    await shellReady(B.page);
    for (const p of [A.page, B.page]) {
      await room(p, 'Général').waitFor();
      expect(await p.locator('h1.view-title').textContent()).toBe('Général');
      // Department rooms are there, locked, with the request button.
      await p.getByTestId('locked-Informatique').getByRole('button', { name: "Demander l'accès à #Informatique" }).waitFor();
    }
  }, 60_000);

  it('a request for Informatique is approved by an admin in a third browser, and the room opens', async () => {
    const adminNode = await adminClient(t, uniqueName('admin'));
    adminName = adminNode.username!;
    nodeClients.push(adminNode);

    const locked = A.page.getByTestId('locked-Informatique');
    await locked.getByRole('button', { name: "Demander l'accès à #Informatique" }).click();
    await locked.getByText('En attente').waitFor();
    expect(await locked.getAttribute('data-access')).toBe('pending');

    const C = await open();
    await login(C.page, adminName, PASSWORD);
    await shellReady(C.page);
    await C.page.getByTestId('nav-admin').click();
    const request = C.page.getByTestId(`request-${alice}-Informatique`);
    await request.waitFor();
    await request.getByRole('button', { name: 'Accepter' }).click();
    await request.waitFor({ state: 'detached' });

    // Told live, and the room is now one of hers.
    await A.page.getByText(`Accès à #Informatique accordé par ${adminName}.`).waitFor();
    await room(A.page, 'Informatique').click();
    expect(await A.page.locator('h1.view-title').textContent()).toBe('Informatique');
    await A.page.getByTestId('composer').waitFor();
    expect(await A.page.getByTestId('locked-Informatique').count()).toBe(0);
    await C.context.close();
  }, 90_000);

  it('they chat live: Enter sends, Shift+Enter adds a line, and my message shows as sent', async () => {
    await room(A.page, 'Général').click();
    await room(B.page, 'Général').click();
    const composer = A.page.getByTestId('composer');
    await composer.fill('Bonjour Bob !');
    await composer.press('Enter');
    expect(await composer.inputValue()).toBe('');

    const mine = messages(A.page).filter({ hasText: 'Bonjour Bob !' });
    await mine.waitFor();
    await expect.poll(() => mine.getAttribute('data-status'), { timeout: UI_TIMEOUT_MS }).toBe('sent');
    await messages(B.page).filter({ hasText: 'Bonjour Bob !' }).waitFor();

    const bobComposer = B.page.getByTestId('composer');
    await bobComposer.click();
    await B.page.keyboard.type('Salut Alice');
    await B.page.keyboard.press('Shift+Enter');
    await B.page.keyboard.type('deuxième ligne');
    expect(await bobComposer.inputValue()).toBe('Salut Alice\ndeuxième ligne');
    await B.page.keyboard.press('Enter');
    const reply = messages(A.page).filter({ hasText: 'deuxième ligne' });
    await reply.waitFor();
    expect(await reply.locator('.msg-text').innerText()).toBe('Salut Alice\ndeuxième ligne');
    expect(await reply.getAttribute('data-author')).toBe(bob);
  }, 60_000);

  it('a message the server refuses shows as failed, with a retry', async () => {
    const composer = A.page.getByTestId('composer');
    await composer.fill('cloche \u0007 interdite');
    await composer.press('Enter');
    const failed = messages(A.page).filter({ hasText: 'interdite' });
    await expect.poll(() => failed.getAttribute('data-status'), { timeout: UI_TIMEOUT_MS }).toBe('failed');
    await failed.getByText("Échec de l'envoi : Le message est vide ou contient des caractères interdits.").waitFor();
    await failed.getByRole('button', { name: 'Réessayer' }).waitFor();
  }, 60_000);

  it('works from the keyboard: Ctrl+K goes to a room, Alt+↑/↓ to the one before or after', async () => {
    await A.page.keyboard.press('Control+k');
    const search = A.page.getByRole('combobox', { name: 'Salon ou ami' });
    await search.waitFor();
    await A.page.keyboard.type('info');
    await A.page.keyboard.press('Enter');
    await expect.poll(() => A.page.locator('h1.view-title').textContent(), { timeout: UI_TIMEOUT_MS }).toBe('Informatique');
    expect(await A.page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('composer');
    await A.page.keyboard.press('Alt+ArrowUp');
    await expect.poll(() => A.page.locator('h1.view-title').textContent(), { timeout: UI_TIMEOUT_MS }).toBe('Général');
    await A.page.keyboard.press('Alt+ArrowDown');
    await expect.poll(() => A.page.locator('h1.view-title').textContent(), { timeout: UI_TIMEOUT_MS }).toBe('Informatique');
    await room(A.page, 'Général').click();
  }, 60_000);

  it('a friend request is accepted, and each sees the other online', async () => {
    await A.page.getByRole('button', { name: 'Gérer les amis' }).click();
    await A.page.getByTestId('add-friend-input').fill(bob);
    await A.page.getByRole('button', { name: 'Envoyer la demande' }).click();
    await A.page.getByTestId(`outgoing-${bob}`).waitFor();

    await B.page.getByText(`${alice} vous a envoyé une demande d'ami.`).waitFor();
    await B.page.getByRole('button', { name: /Gérer les amis/ }).click();
    const incoming = B.page.getByTestId(`incoming-${alice}`);
    await incoming.getByRole('button', { name: 'Accepter' }).click();

    const friendRow = A.page.getByTestId(`friend-row-${bob}`);
    await friendRow.waitFor();
    await expect.poll(() => friendRow.getAttribute('data-online'), { timeout: UI_TIMEOUT_MS }).toBe('true');
    await expect.poll(() => A.page.getByTestId(`friend-${bob}`).getAttribute('data-online'), { timeout: UI_TIMEOUT_MS }).toBe('true');
    await B.page.getByTestId(`friend-${alice}`).waitFor();
  }, 60_000);

  it('a mention of me, read elsewhere, raises a desktop notification', async () => {
    const notifications = await watchNotifications(B, origin);
    await B.page.getByRole('button', { name: /Gérer les amis/ }).click();
    await room(A.page, 'Général').click();
    const composer = A.page.getByTestId('composer');
    await composer.fill(`@${bob} tu as vu le planning ?`);
    await composer.press('Enter');
    await expect
      .poll(notifications, { timeout: UI_TIMEOUT_MS })
      .toEqual([`${alice} vous mentionne dans #Général | @${bob} tu as vu le planning ?`]);
  }, 60_000);

  it('a DM between the two pages goes direct, with the lock, and both see the same safety number', async () => {
    await A.page.getByTestId(`friend-${bob}`).click();
    await B.page.getByTestId(`friend-${alice}`).click();
    const composer = A.page.getByTestId('composer');
    await composer.waitFor();
    await composer.fill('Un secret entre nous');
    await composer.press('Enter');

    const sent = messages(A.page).filter({ hasText: 'Un secret entre nous' });
    await sent.waitFor();
    await expect.poll(() => sent.locator('.dm-badges').getAttribute('data-path'), { timeout: UI_TIMEOUT_MS }).toBe('direct');
    await sent.getByRole('img', { name: 'Chiffré de bout en bout' }).waitFor();
    expect(await sent.locator('.path-badge').textContent()).toBe('direct');

    const received = messages(B.page).filter({ hasText: 'Un secret entre nous' });
    await received.waitFor();
    expect(await received.locator('.dm-badges').getAttribute('data-path')).toBe('direct');
    await received.getByRole('img', { name: 'Chiffré de bout en bout' }).waitFor();
    await expect.poll(() => sent.locator('.dm-badges').getAttribute('data-dm-status'), { timeout: UI_TIMEOUT_MS }).toBe('delivered');

    const digits: string[] = [];
    for (const p of [A.page, B.page]) {
      await p.getByRole('button', { name: 'Numéro de sécurité' }).click();
      const number = p.getByTestId('safety-number');
      await number.waitFor();
      digits.push((await number.innerText()).replace(/\s+/g, ' ').trim());
      // In a browser the code comes from the server: the dialog says so (issue 13 §4).
      expect(await p.getByTestId('web-code-limit').innerText()).toContain("utilisez l'application de bureau");
      await p.keyboard.press('Escape');
    }
    expect(digits[0]).toMatch(/^(\d{5} ){11}\d{5}$/);
    expect(digits[0]).toBe(digits[1]);
  }, 90_000);

  it('scrolling up loads older pages with no gap (after a reload that resumes the session)', async () => {
    const poster = await registered(t, uniqueName('poster'));
    nodeClients.push(poster);
    const sent = [];
    for (let i = 1; i <= HISTORY_MESSAGES; i++) sent.push(poster.post('Général', `historique ${i}`));
    await Promise.all(sent.map((m) => poster.settled(m)));
    // Read elsewhere (Alice is in her DM): Général counts them.
    await expect.poll(() => A.page.getByTestId('unread-Général').textContent(), { timeout: UI_TIMEOUT_MS }).toBe('99+');

    await A.page.reload();
    await shellReady(A.page);
    await room(A.page, 'Général').click();
    await messages(A.page).filter({ hasText: `historique ${HISTORY_MESSAGES}` }).waitFor();
    const firstPage = await seqsIn(A.page);
    expect(firstPage.length).toBeLessThan(HISTORY_MESSAGES);

    const timeline = A.page.getByTestId('timeline');
    const start = A.page.getByTestId('timeline-start');
    // Scrolled to the top until the first message is loaded (each scroll asks for an older page).
    await expect
      .poll(
        async () => {
          await timeline.evaluate((el) => el.scrollTo({ top: 0 }));
          return start.count();
        },
        { timeout: UI_TIMEOUT_MS },
      )
      .toBe(1);
    const all = await seqsIn(A.page);
    const max = Math.max(...all);
    expect(all).toEqual(Array.from({ length: max }, (_, i) => i + 1));
    expect(await messages(A.page).filter({ hasText: 'historique 1' }).first().isVisible()).toBe(true);
  }, 90_000);

  it('after the reload, direct messages unlock with the password and the history is still there', async () => {
    await A.page.getByTestId(`friend-${bob}`).click();
    const unlock = A.page.getByTestId('dm-unlock');
    await unlock.waitFor();
    await unlock.getByLabel('Mot de passe').fill('a-wrong-password!');
    await unlock.getByRole('button', { name: 'Déverrouiller' }).click();
    await unlock.getByText('Mot de passe incorrect.').waitFor();
    await unlock.getByLabel('Mot de passe').fill(PASSWORD);
    await unlock.getByRole('button', { name: 'Déverrouiller' }).click();
    await messages(A.page).filter({ hasText: 'Un secret entre nous' }).waitFor();
  }, 60_000);

  it('shows a banner while the server restarts, then sends what waited and fills the gap', async () => {
    await room(A.page, 'Général').click();
    await A.page.getByTestId('composer').waitFor();
    await t.stop();
    await A.page.getByTestId('reconnect-banner').waitFor();
    await screenshot(A.page, 'reconnecting-fr-light');

    const composer = A.page.getByTestId('composer');
    await composer.fill('écrit hors ligne');
    await composer.press('Enter');
    const waiting = messages(A.page).filter({ hasText: 'écrit hors ligne' });
    await waiting.waitFor();
    expect(await waiting.getAttribute('data-status')).toBe('sending');

    t = await t.restart();
    const other = await registered(t, uniqueName('late'));
    nodeClients.push(other);
    await other.settled(other.post('Général', 'posté pendant la reconnexion'));

    await A.page.getByTestId('reconnect-banner').waitFor({ state: 'detached', timeout: 45_000 });
    await messages(A.page).filter({ hasText: 'posté pendant la reconnexion' }).waitFor();
    await expect.poll(() => waiting.getAttribute('data-status'), { timeout: UI_TIMEOUT_MS }).toBe('sent');
    const seqs = await seqsIn(A.page);
    const from = Math.min(...seqs);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => from + i));
  }, 90_000);

  it('an admin forces a friendship, then suspends a user from the panel: their page returns to the login with until when', async () => {
    const C = await open();
    await login(C.page, adminName, PASSWORD);
    await shellReady(C.page);
    await C.page.getByTestId('nav-admin').click();

    // A forced friendship (seed: "ajouter un ami de force"): Alice hears of it live.
    const stranger = await registered(t, uniqueName('stranger'));
    nodeClients.push(stranger);
    await C.page.getByRole('tab', { name: 'Amitié forcée' }).click();
    await C.page.getByLabel('Premier utilisateur').fill(alice);
    await C.page.getByLabel('Second utilisateur').fill(stranger.username!);
    await C.page.getByRole('button', { name: 'Rendre amis' }).click();
    await C.page.getByText(`${alice} et ${stranger.username} sont maintenant amis.`).waitFor();
    await A.page.getByTestId(`friend-${stranger.username}`).waitFor();

    await C.page.getByRole('tab', { name: 'Utilisateurs' }).click();
    const row = C.page.getByTestId(`user-${bob}`);
    await row.getByRole('button', { name: 'Suspendre' }).click();
    await C.page.getByLabel('Durée').selectOption({ label: '15 minutes' });
    await C.page.locator('dialog[open]').getByRole('button', { name: 'Suspendre' }).click();
    await row.getByText(/^Suspendu jusqu'à \d\d:\d\d$/).waitFor();

    const notice = B.page.getByTestId('form-error');
    await notice.waitFor({ timeout: UI_TIMEOUT_MS });
    expect(await notice.textContent()).toMatch(/^Ce compte est suspendu jusqu'à \d\d:\d\d\.$/);
    await login(B.page, bob, PASSWORD);
    await B.page.getByTestId('form-error').getByText(/suspendu jusqu'à/).waitFor();
    await C.context.close();
  }, 60_000);

  it('logs out from the settings, and stays logged out after a reload', async () => {
    await A.page.getByRole('button', { name: 'Paramètres' }).click();
    await A.page.getByRole('button', { name: 'Se déconnecter', exact: true }).click();
    await A.page.getByRole('tab', { name: 'Se connecter' }).waitFor();
    await A.page.reload();
    await A.page.getByRole('tab', { name: 'Se connecter' }).waitFor();
    expect(await A.page.locator('nav.sidebar').count()).toBe(0);
  }, 60_000);

  it("logs out everywhere from the settings: the account's other sessions end too", async () => {
    const elsewhere = await registered(t);
    await login(A.page, elsewhere.username!, PASSWORD);
    await shellReady(A.page);
    await A.page.getByRole('button', { name: 'Paramètres' }).click();
    await A.page.getByRole('button', { name: 'Se déconnecter partout' }).click();
    await A.page.getByRole('tab', { name: 'Se connecter' }).waitFor();
    await expect.poll(() => elsewhere.closeInfo?.code, { timeout: UI_TIMEOUT_MS }).toBe(CLOSE_CODES.SESSION_ENDED);
  }, 60_000);

  it("an admin's reset code lets the user choose a new password in the page; the old one stops working; a wrong code is refused", async () => {
    const NEW_PASSWORD = 'Glacier-lanterne-57!';
    const carol = await registered(t, uniqueName('carol'));
    nodeClients.push(carol);
    const name = carol.username!;
    const reset = resetPassword(t.authority, { name: 'console', origin: 'console' }, name);
    if (!reset.ok) throw new Error(`reset failed: ${JSON.stringify(reset.error)}`);
    const code = reset.value.code;
    await expect.poll(() => carol.closeInfo?.code, { timeout: UI_TIMEOUT_MS }).toBe(CLOSE_CODES.SESSION_ENDED);

    const R = await open();
    const { page } = R;
    await page.getByRole('button', { name: "J'ai un code de réinitialisation" }).click();
    await page.getByRole('heading', { name: 'Choisir un nouveau mot de passe' }).waitFor();
    await page.getByLabel("Nom d'utilisateur").fill(name);
    await page.getByLabel('Code de réinitialisation').fill('abcd-efgh-jkmn-pqrs');
    await page.getByLabel('Nouveau mot de passe', { exact: true }).fill(NEW_PASSWORD);
    // The new password gets the same rules, checked live, as when registering.
    expect(await page.locator('.rule').evaluateAll((els) => els.map((e) => e.getAttribute('data-ok')))).toEqual(['true', 'true']);
    const submit = page.getByRole('button', { name: 'Enregistrer et se connecter' });
    await submit.click();
    await page.getByTestId('form-error').getByText("Nom d'utilisateur ou code de réinitialisation incorrect, ou code expiré.").waitFor();
    expect(await page.locator('nav.sidebar').count()).toBe(0);

    await page.getByLabel('Code de réinitialisation').fill(code);
    await submit.click();
    await shellReady(page);
    await room(page, 'Général').waitFor();

    // The code is used up, and the old password opens nothing; the new one does.
    const again = newClient(t);
    nodeClients.push(again);
    const reused = await again.resetPassword(name, code, 'Un-autre-secret-93!');
    expect(!reused.ok && reused.error.code).toBe('WRONG_CREDENTIALS');
    const elsewhere = await open();
    await login(elsewhere.page, name, PASSWORD);
    await elsewhere.page.getByTestId('form-error').getByText('Identifiant ou mot de passe incorrect.').waitFor();
    await login(elsewhere.page, name, NEW_PASSWORD);
    await shellReady(elsewhere.page);
    await R.context.close();
    await elsewhere.context.close();
  }, 90_000);

  it('raised no page error and no CSP violation', () => {
    expect(pages.flatMap((p) => p.problems)).toEqual([]);
  });
});
