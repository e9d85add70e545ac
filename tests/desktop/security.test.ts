/** Electron's security checklist, item by item, as desktop/src/main/security.ts sets it. */
import { describe, expect, it } from 'vitest';
import type { App, Session, WebContents } from 'electron';
import {
  ALLOWED_PERMISSIONS,
  APP_ENTRY,
  contentSecurityPolicy,
  hardenSession,
  hardenWebContents,
  installAppGuards,
  isAllowedRequest,
  isAppBlobUrl,
  isTrustedSender,
  windowOptions,
} from '../../desktop/src/main/security.js';
import { frame, StubEmitter, StubSession, StubWebContents } from './stubs.js';

const SERVER = 'wss://chat.corp.lan:7443/ws';

describe('the window', () => {
  const prefs = windowOptions('/app/preload/preload.cjs').webPreferences!;

  it('isolates the page from Node and Electron', () => {
    expect(prefs.contextIsolation).toBe(true);
    expect(prefs.sandbox).toBe(true);
    expect(prefs.nodeIntegration).toBe(false);
    expect(prefs.nodeIntegrationInWorker).toBe(false);
    expect(prefs.nodeIntegrationInSubFrames).toBe(false);
    expect(prefs.preload).toBe('/app/preload/preload.cjs');
  });

  it('keeps web security on and the risky features off', () => {
    expect(prefs.webSecurity).toBe(true);
    expect(prefs.allowRunningInsecureContent).toBe(false);
    expect(prefs.experimentalFeatures).toBe(false);
    expect(prefs.webviewTag).toBe(false);
    expect(prefs.navigateOnDragDrop).toBe(false);
  });
});

describe('the content security policy', () => {
  const directives = (csp: string) => new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k!, v]));

  it('allows no remote content and no inline or eval code; WebAssembly compilation (OPAQUE) is the one allowance', () => {
    for (const csp of [contentSecurityPolicy(null), contentSecurityPolicy(SERVER)]) {
      const d = directives(csp);
      expect(d.get('default-src')).toEqual(["'none'"]);
      expect(d.get('script-src')).toEqual(["'self'", "'wasm-unsafe-eval'"]);
      expect(d.get('style-src')).toEqual(["'self'"]);
      expect(d.get('object-src')).toEqual(["'none'"]);
      expect(d.get('frame-src')).toEqual(["'none'"]);
      expect(d.get('base-uri')).toEqual(["'none'"]);
      expect(d.get('form-action')).toEqual(["'none'"]);
      expect(csp.match(/'[^']*unsafe[^']*'/g)).toEqual(["'wasm-unsafe-eval'"]);
      expect(csp).not.toMatch(/https?:|\*/);
    }
  });

  it('lets the page connect to the pinned authority only, and nowhere before one is chosen', () => {
    expect(directives(contentSecurityPolicy(null)).get('connect-src')).toEqual(["'none'"]);
    expect(directives(contentSecurityPolicy(SERVER)).get('connect-src')).toEqual(['wss://chat.corp.lan:7443']);
  });
});

describe('navigation, new windows, webviews', () => {
  const opened: string[] = [];
  const contents = new StubWebContents();
  hardenWebContents(contents as unknown as WebContents, (url) => opened.push(url));

  it('stays on app:// and refuses every other navigation or redirect', () => {
    expect(contents.fire('will-navigate', 'https://evil.example/')).toBe(true);
    expect(contents.fire('will-navigate', 'file:///etc/passwd')).toBe(true);
    expect(contents.fire('will-navigate', APP_ENTRY)).toBe(false);
    expect(contents.fire('will-redirect', 'https://evil.example/')).toBe(true);
    expect(contents.fireDetailed('will-frame-navigate', { url: 'https://evil.example/' })).toBe(true);
    expect(contents.fireDetailed('will-frame-navigate', { url: APP_ENTRY })).toBe(false);
  });

  it('refuses webviews', () => {
    expect(contents.fire('will-attach-webview', {}, {})).toBe(true);
  });

  it('denies every new window; plain web links open in the system browser', () => {
    for (const url of ['https://intranet.lan/doc', 'http://wiki.lan/', 'javascript:alert(1)', 'file:///etc/passwd', 'app://chandler/x', 'https://user:pw@evil.example/']) {
      expect(contents.windowOpenHandler!({ url })).toEqual({ action: 'deny' });
    }
    expect(opened).toEqual(['https://intranet.lan/doc', 'http://wiki.lan/']);
  });
});

describe('the session', () => {
  const session = new StubSession();
  const verify = () => undefined;
  let server: string | null = SERVER;
  hardenSession(session as unknown as Session, { verifyCertificate: verify, serverUrl: () => server });

  it('denies every permission request except notifications from the app itself', () => {
    expect([...ALLOWED_PERMISSIONS]).toEqual(['notifications']);
    expect(session.requestPermission('notifications', APP_ENTRY)).toBe(true);
    for (const p of ['media', 'geolocation', 'openExternal', 'clipboard-read', 'midi', 'pointerLock', 'fullscreen', 'display-capture']) {
      expect(session.requestPermission(p, APP_ENTRY)).toBe(false);
    }
    expect(session.requestPermission('notifications', 'https://evil.example/')).toBe(false);
    expect(session.permissionCheck!(null, 'notifications', 'app://chandler')).toBe(true);
    expect(session.permissionCheck!(null, 'media', 'app://chandler')).toBe(false);
    expect(session.permissionCheck!(null, 'notifications', 'https://evil.example')).toBe(false);
    expect(session.devicePermission!()).toBe(false);
  });

  it('verifies certificates with the pinning procedure', () => {
    expect(session.verifyProc).toBe(verify);
  });

  it('lets out only the app itself and the pinned authority socket', () => {
    expect(session.allows('app://chandler/assets/index.js')).toBe(true);
    expect(session.allows(SERVER)).toBe(true);
    expect(session.allows('wss://chat.corp.lan:7443/other')).toBe(false);
    expect(session.allows('wss://evil.example:7443/ws')).toBe(false);
    expect(session.allows('https://chat.corp.lan:7443/')).toBe(false);
    expect(session.allows('https://fonts.example/font.woff2')).toBe(false);
    // The export file the page builds and saves is a blob of the app's own origin.
    expect(session.allows('blob:app://chandler/6f1c2d1e-0000-4000-8000-000000000000')).toBe(true);
    expect(session.allows('blob:https://evil.example/6f1c2d1e-0000-4000-8000-000000000000')).toBe(false);
    server = null;
    expect(session.allows(SERVER)).toBe(false);
    expect(isAllowedRequest('app://other/x', null)).toBe(false);
  });

  it('refuses downloads, except files the app page made itself (the data export)', () => {
    const item = (url: string) => ({ getURL: () => url });
    expect(session.fire('will-download', item('blob:app://chandler/6f1c2d1e-0000-4000-8000-000000000000'), {})).toBe(false);
    for (const url of [
      'https://chat.corp.lan:7443/api/export',
      'https://evil.example/payload.exe',
      'blob:https://evil.example/6f1c2d1e-0000-4000-8000-000000000000',
      'blob:app://other/6f1c2d1e-0000-4000-8000-000000000000',
      'data:application/octet-stream;base64,AAAA',
      'file:///etc/passwd',
    ]) {
      expect(session.fire('will-download', item(url), {}), url).toBe(true);
    }
    expect(isAppBlobUrl('blob:app://chandler/x')).toBe(true);
    expect(isAppBlobUrl('app://chandler/x')).toBe(false);
    expect(isAppBlobUrl('blob:null/x')).toBe(false);
  });
});

describe('IPC senders', () => {
  it('trusts only the app page in its top frame', () => {
    expect(isTrustedSender(frame(APP_ENTRY))).toBe(true);
    expect(isTrustedSender(frame(APP_ENTRY, frame(APP_ENTRY)))).toBe(false);
    expect(isTrustedSender(frame('https://evil.example/'))).toBe(false);
    expect(isTrustedSender(frame('app://evil/index.html'))).toBe(false);
    expect(isTrustedSender(null)).toBe(false);
    expect(isTrustedSender(undefined)).toBe(false);
  });
});

describe('app-wide guards', () => {
  it('sandboxes every renderer and hardens every web contents as it is created', () => {
    const app = new StubEmitter() as StubEmitter & { sandboxed?: boolean; enableSandbox(): void };
    app.enableSandbox = () => (app.sandboxed = true);
    installAppGuards(app as unknown as App, () => undefined);
    expect(app.sandboxed).toBe(true);
    const contents = new StubWebContents();
    app.fire('web-contents-created', contents);
    expect(contents.windowOpenHandler).not.toBeNull();
    expect(contents.fire('will-navigate', 'https://evil.example/')).toBe(true);
  });
});
