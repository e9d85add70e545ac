/**
 * Bidi spoofing in real Chromium against a real authority (issue 12 item 7): a right-to-left
 * override in a message shows as a marker and reads in the order typed, an address hiding one is
 * not a link, Hebrew and Arabic still read right to left, and each body and name is isolated.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { ChandlerClient } from '../../shared/client/index.js';
import { adminClient, PASSWORD, registered, startAuthority, uniqueName, type TestAuthority } from '../helpers/authority.js';
import { animationsSettled, buildWebClient, launchChromium, openApp, originOf, register, shellReady, UI_TIMEOUT_MS, watchNotifications, type AppPage } from './support/web.js';

const SPOOF = 'see https://files.example/\u202egnp.exe now';
const HEBREW = 'שלום לכולם, הקובץ מוכן';
const ARABIC = 'مرحبا بالجميع، الملف جاهز';
const CLEAN = 'the report: https://intranet.lan/report.pdf thanks';
/** Where the screenshot goes: outside the repository, for a person to look at. */
const SHOT = '/tmp/chandler-bidi.png';

let web: Awaited<ReturnType<typeof buildWebClient>>;
let t: TestAuthority;
let browser: Browser;
let app: AppPage;
const nodeClients: ChandlerClient[] = [];
const roomName = `ops\u2067x\u2069${uniqueName('')}`;
const reader = uniqueName('reader');
let mallory: ChandlerClient;

beforeAll(async () => {
  web = await buildWebClient();
  t = await startAuthority({ webRoot: web.dir });
  browser = await launchChromium(t.spkiHash!);
}, 180_000);

afterAll(async () => {
  for (const c of nodeClients) c.close();
  await app?.context.close().catch(() => undefined);
  await browser?.close();
  await t?.cleanup();
  web?.remove();
}, 60_000);

function message(page: Page, hasText: string) {
  return page.getByTestId('timeline').locator('article.msg').filter({ hasText });
}

describe('bidi controls in Chromium', () => {
  it('an override in a message is a marker, its link is text, RTL sentences read right to left, bodies are isolated', async () => {
    const admin = await adminClient(t);
    nodeClients.push(admin);
    expect((await admin.call('adminCreateRoom', { name: roomName, policy: 'open' })).ok).toBe(true);
    mallory = await registered(t, uniqueName('mallory'));
    const dana = await registered(t, uniqueName('dana'));
    nodeClients.push(mallory, dana);
    for (const [c, text] of [[mallory, SPOOF], [dana, HEBREW], [mallory, ARABIC], [dana, CLEAN]] as const) {
      expect((await c.settled(c.post('Général', text))).status).toBe('sent');
    }

    app = await openApp(browser, originOf(t.url));
    const { page } = app;
    await register(page, reader, PASSWORD);
    await shellReady(page);
    const spoof = message(page, 'gnp.exe');
    await spoof.waitFor();
    await message(page, 'report.pdf').waitFor();

    const body = spoof.locator('.msg-text');
    expect(await body.textContent()).toBe('see https://files.example/[U+202E]gnp.exe now');
    expect(await body.innerText()).not.toMatch(/[\u202a-\u202e\u2066-\u2069]/);
    // Not clickable: an address that hides a character is shown as text.
    expect(await spoof.locator('a').count()).toBe(0);
    // On screen, "gnp" stands left of ".exe", as typed: nothing was reversed.
    expect(await page.evaluate(() => {
      const p = [...document.querySelectorAll('article.msg .msg-text')].find((e) => e.textContent!.includes('gnp.exe'))!;
      const walker = document.createTreeWalker(p, NodeFilter.SHOW_TEXT);
      let node: Text | null = null;
      while (walker.nextNode()) if (walker.currentNode.textContent!.includes('gnp.exe')) node = walker.currentNode as Text;
      const left = (index: number) => {
        const r = document.createRange();
        r.setStart(node!, index);
        r.setEnd(node!, index + 1);
        return r.getBoundingClientRect().left;
      };
      const at = node!.data.indexOf('gnp.exe');
      return left(at) < left(at + 'gnp.'.length);
    })).toBe(true);

    const clean = message(page, 'report.pdf').locator('a');
    expect(await clean.getAttribute('href')).toBe('https://intranet.lan/report.pdf');
    expect(await clean.getAttribute('dir')).toBe('ltr');

    // Each body is its own isolate with its own direction; names are isolated too.
    const bodies = await page.getByTestId('timeline').locator('.msg-text').evaluateAll((els) =>
      els.map((e) => ({ text: e.textContent, bidi: getComputedStyle(e).unicodeBidi, rtl: e.matches(':dir(rtl)') })),
    );
    const of = (s: string) => bodies.find((b) => b.text?.includes(s));
    expect(of('gnp.exe')).toMatchObject({ bidi: 'isolate', rtl: false });
    expect(of(HEBREW)).toMatchObject({ bidi: 'isolate', rtl: true });
    expect(of(ARABIC)).toMatchObject({ bidi: 'isolate', rtl: true });
    const authors = await page.locator('.msg-author').evaluateAll((els) => els.map((e) => [e.tagName, getComputedStyle(e).unicodeBidi]));
    expect(authors.length).toBeGreaterThan(0);
    for (const a of authors) expect(a).toEqual(['BDI', 'isolate']);

    // A room name with isolates: markers in the sidebar, inside a bdi.
    const shownRoom = roomName.replace('\u2067', '[U+2067]').replace('\u2069', '[U+2069]');
    const sidebarRoom = page.locator('nav.sidebar bdi').filter({ hasText: shownRoom });
    await sidebarRoom.waitFor();
    expect(await page.locator('nav.sidebar').textContent()).not.toMatch(/[\u2066-\u2069]/);

    await animationsSettled(page);
    await page.screenshot({ path: SHOT, animations: 'disabled', caret: 'hide' });
    expect(app.problems).toEqual([]);
  }, 120_000);

  it('a mention carrying an override raises a notification that shows the marker', async () => {
    const { page } = app;
    const notifications = await watchNotifications(app, originOf(t.url));
    await page.getByRole('button', { name: /Gérer les amis/ }).click();
    expect((await mallory.settled(mallory.post('Général', `@${reader} look \u202egnp.exe`))).status).toBe('sent');
    await expect
      .poll(notifications, { timeout: UI_TIMEOUT_MS })
      .toEqual([`${mallory.username} vous mentionne dans #Général | @${reader} look [U+202E]gnp.exe`]);
  }, 60_000);
});
