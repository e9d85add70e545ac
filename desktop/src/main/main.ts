/**
 * The Electron main process: wiring only. Security settings live in security.ts, the app://
 * protocol in protocol.ts, pinning in pinning.ts, the server choice in server-config.ts/tofu.ts.
 */
import { join } from 'node:path';
import { app, BrowserWindow, dialog, ipcMain, Menu, Notification, protocol, safeStorage, session, shell } from 'electron';
import { IPC_CHANNELS, type UiLanguage } from '../ipc/contract.js';
import { dialogText } from './dialogs.js';
import { fetchExport } from './export.js';
import { registerIpc } from './ipc.js';
import { makeVerifyProc, probeFingerprint } from './pinning.js';
import { handleAppProtocol, registerAppScheme } from './protocol.js';
import { SecretStore } from './secrets.js';
import { APP_ENTRY, contentSecurityPolicy, hardenSession, installAppGuards, isExternalLink, windowOptions } from './security.js';
import { presetConfigPaths, ServerStore } from './server-config.js';
import { chooseServer, toServerInfo } from './tofu.js';

const here = import.meta.dirname;
const RENDERER_DIR = join(here, '..', 'renderer');
const PRELOAD = join(here, '..', 'preload', 'preload.cjs');

registerAppScheme(protocol);
installAppGuards(app, (url) => {
  if (isExternalLink(url)) void shell.openExternal(url);
});

if (!app.requestSingleInstanceLock()) app.quit();

let win: BrowserWindow | null = null;
let lang: UiLanguage = 'fr';
let warnedMismatch = false;

function createWindow(): BrowserWindow {
  const w = new BrowserWindow(windowOptions(PRELOAD));
  w.once('ready-to-show', () => w.show());
  w.on('closed', () => {
    if (win === w) win = null;
  });
  void w.loadURL(APP_ENTRY);
  return w;
}

app.on('second-instance', () => {
  if (!win) return;
  if (win.isMinimized()) win.restore();
  win.focus();
});

app.on('window-all-closed', () => app.quit());

void app.whenReady().then(async () => {
  if (app.isPackaged) Menu.setApplicationMenu(null);
  const servers = new ServerStore(
    join(app.getPath('userData'), 'server.json'),
    presetConfigPaths(process.env, process.platform, app.isPackaged ? process.resourcesPath : undefined),
  );
  const preset = servers.preset();
  if (preset && !preset.ok) {
    dialog.showErrorBox('CHandler', `${dialogText(lang, 'presetError')}:\n${preset.reason}`);
    app.exit(1);
    return;
  }
  const secrets = new SecretStore(join(app.getPath('userData'), 'secrets.json'), safeStorage);

  const serverUrl = () => servers.current()?.url ?? null;
  hardenSession(session.defaultSession, {
    serverUrl,
    verifyCertificate: makeVerifyProc(
      () => {
        const s = servers.current();
        return s ? { host: s.host, fingerprint: s.fingerprint } : null;
      },
      (host, fingerprint) => {
        if (warnedMismatch) return;
        warnedMismatch = true;
        void dialog.showMessageBox({
          type: 'error',
          title: dialogText(lang, 'mismatchTitle'),
          message: dialogText(lang, 'mismatchMessage', { server: host }),
          detail: dialogText(lang, 'mismatchDetail', { fingerprint }),
        });
      },
    ),
  });
  handleAppProtocol(protocol, RENDERER_DIR, () => contentSecurityPolicy(serverUrl()));

  registerIpc(
    ipcMain,
    {
      getServer: () => {
        const s = servers.current();
        return s ? toServerInfo(s) : null;
      },
      chooseServer: (request) => {
        lang = request.lang;
        return chooseServer(request, {
          servers,
          probe: (host, port) => probeFingerprint(host, port),
          confirm: async (address, fingerprint, l) => {
            const options = {
              type: 'question' as const,
              buttons: [dialogText(l, 'trust'), dialogText(l, 'cancel')],
              defaultId: 1,
              cancelId: 1,
              noLink: true,
              title: dialogText(l, 'trustTitle'),
              message: dialogText(l, 'trustMessage', { server: `${address.host}:${address.port}` }),
              detail: dialogText(l, 'trustDetail', { fingerprint }),
            };
            const r = win ? await dialog.showMessageBox(win, options) : await dialog.showMessageBox(options);
            return r.response === 0;
          },
        });
      },
      forgetServer: () => {
        if (servers.current()?.preset) return false;
        servers.forget();
        secrets.clear();
        warnedMismatch = false;
        return true;
      },
      notify: (request) => {
        if (!Notification.isSupported()) return;
        const n = new Notification({ title: request.title, body: request.body, silent: false });
        n.on('click', () => {
          if (!win) return;
          if (win.isMinimized()) win.restore();
          win.show();
          win.focus();
          if (request.target) win.webContents.send(IPC_CHANNELS.notificationClicked, request.target);
        });
        n.show();
      },
      exportData: async (token) => {
        const s = servers.current();
        return s ? fetchExport({ serverUrl: s.url, fingerprint: s.fingerprint, token }) : { ok: false, reason: 'no-server' };
      },
      secrets,
    },
    (msg) => console.warn(msg),
  );

  win = createWindow();
});
