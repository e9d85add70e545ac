/**
 * Electron's security checklist, as code, in one place: the window's web preferences, the
 * content security policy, navigation / new-window / webview refusals, downloads limited to
 * files the page made itself (the data export), permission handlers, a request filter that
 * lets nothing out but the app itself and the pinned authority, and the IPC sender check.
 * tests/desktop/security.test.ts asserts each item.
 */
import type {
  App,
  BrowserWindowConstructorOptions,
  DownloadItem,
  Session,
  WebContents,
  WebFrameMain,
} from 'electron';

export const APP_SCHEME = 'app';
export const APP_HOST = 'chandler';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY = `${APP_ORIGIN}/index.html`;

/** The only permission a page may get: desktop notifications (mentions and DMs). */
export const ALLOWED_PERMISSIONS: ReadonlySet<string> = new Set(['notifications']);

export const WINDOW_SIZE = { width: 1200, height: 800, minWidth: 760, minHeight: 520 } as const;

export function windowOptions(preload: string): BrowserWindowConstructorOptions {
  return {
    ...WINDOW_SIZE,
    show: false,
    title: 'CHandler',
    autoHideMenuBar: true,
    backgroundColor: '#f3f4f7',
    webPreferences: {
      preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      safeDialogs: true,
      spellcheck: true,
    },
  };
}

/**
 * No remote content at all: code, styles and images from the app itself; the only connection
 * allowed is the WebSocket of the pinned authority (none before one is chosen). OPAQUE's login
 * runs in WebAssembly that its library compiles from bytes it carries: 'wasm-unsafe-eval' allows
 * that compilation and nothing else (no eval, no inline script).
 */
export function contentSecurityPolicy(serverUrl: string | null): string {
  let connect = "'none'";
  if (serverUrl) {
    const u = new URL(serverUrl);
    if (u.protocol === 'wss:') connect = `wss://${u.host}`;
  }
  return [
    "default-src 'none'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src ${connect}`,
    "media-src 'none'",
    "object-src 'none'",
    "frame-src 'none'",
    "worker-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export function isAppUrl(raw: string): boolean {
  try {
    const u = new URL(raw);
    return u.protocol === `${APP_SCHEME}:` && u.host === APP_HOST;
  } catch {
    return false;
  }
}

/** A blob: URL the app page made (the data export it saves): blob:app://chandler/<uuid>. */
export function isAppBlobUrl(raw: string): boolean {
  if (!raw.startsWith('blob:')) return false;
  return isAppUrl(raw.slice('blob:'.length));
}

/** Links in messages open in the system browser, and only plain web links. */
export function isExternalLink(raw: string): boolean {
  try {
    const u = new URL(raw);
    return (u.protocol === 'https:' || u.protocol === 'http:') && !u.username && !u.password;
  } catch {
    return false;
  }
}

/** May the app's session load this URL? The app itself, and the pinned authority's socket. */
export function isAllowedRequest(raw: string, serverUrl: string | null): boolean {
  if (isAppUrl(raw) || isAppBlobUrl(raw) || raw.startsWith('devtools://')) return true;
  if (!serverUrl) return false;
  try {
    const u = new URL(raw);
    const s = new URL(serverUrl);
    return u.protocol === 'wss:' && u.host === s.host && u.pathname === s.pathname;
  } catch {
    return false;
  }
}

/** Every web contents: no navigation away, no new windows, no webviews. */
export function hardenWebContents(contents: WebContents, openExternal: (url: string) => void): void {
  contents.on('will-navigate', (event, url) => {
    if (!isAppUrl(url)) event.preventDefault();
  });
  contents.on('will-frame-navigate', (event) => {
    if (!isAppUrl(event.url)) event.preventDefault();
  });
  contents.on('will-redirect', (event, url) => {
    if (!isAppUrl(url)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    if (isExternalLink(url)) openExternal(url);
    return { action: 'deny' };
  });
}

/** The session's handlers: permissions, certificate pinning, outgoing requests, downloads. */
export function hardenSession(
  session: Session,
  options: {
    verifyCertificate: Parameters<Session['setCertificateVerifyProc']>[0];
    serverUrl: () => string | null;
  },
): void {
  session.setPermissionRequestHandler((_contents, permission, callback, details) => {
    callback(ALLOWED_PERMISSIONS.has(permission) && isAppUrl(details.requestingUrl));
  });
  session.setPermissionCheckHandler((_contents, permission, requestingOrigin) => {
    return ALLOWED_PERMISSIONS.has(permission) && isAppUrl(requestingOrigin);
  });
  session.setDevicePermissionHandler(() => false);
  session.setCertificateVerifyProc(options.verifyCertificate);
  session.webRequest.onBeforeRequest((details, callback) => {
    callback({ cancel: !isAllowedRequest(details.url, options.serverUrl()) });
  });
  // Only files the page itself made may be saved (Electron then asks where, in a save dialog).
  session.on('will-download', (event, item: DownloadItem) => {
    if (!isAppBlobUrl(item.getURL())) event.preventDefault();
  });
}

/** Only our own page, in its top frame, may call the main process. */
export function isTrustedSender(frame: WebFrameMain | null | undefined): boolean {
  if (!frame) return false;
  if (frame.parent !== null) return false;
  return isAppUrl(frame.url);
}

/** App-wide: every renderer sandboxed, every web contents hardened as it is created. */
export function installAppGuards(app: App, openExternal: (url: string) => void): void {
  app.enableSandbox();
  app.on('web-contents-created', (_event, contents) => hardenWebContents(contents, openExternal));
}
