/**
 * The Electron main process wired end to end with the `electron` module stubbed (its binary
 * cannot run here): the checklist is applied at start, the window is the hardened one on
 * app://, IPC is registered, and choosing a server pins a real authority's certificate
 * (trust on first use, the dialog answered "trust").
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { IPC_CHANNELS } from '../../desktop/src/ipc/contract.js';
import { registered, startAuthority, uniqueName, type TestAuthority } from '../helpers/authority.js';
import { frame, type StubSession } from './stubs.js';
import { LOADED_MS } from '../helpers/timing.js';

const e = vi.hoisted(() => {
  const userData = `${process.env.TMPDIR ?? '/tmp'}/chandler-desktop-main-${process.pid}`;
  return {
    userData,
    order: [] as string[],
    windows: [] as Array<{ options: Record<string, unknown>; url: string | null }>,
    schemes: [] as unknown[],
    protocolHandlers: new Map<string, (req: Request) => Promise<Response>>(),
    invoke: new Map<string, (event: unknown, payload?: unknown) => unknown>(),
    on: new Map<string, (event: unknown, payload?: unknown) => unknown>(),
    dialogs: [] as Array<Record<string, unknown>>,
    session: null as unknown,
    sandboxed: false,
    readyListeners: [] as Array<() => void>,
  };
});

vi.mock('electron', async () => {
  const { StubEmitter: Emitter, StubSession: Session } = await import('./stubs.js');
  const app = Object.assign(new Emitter(), {
    isPackaged: false,
    enableSandbox: () => {
      e.sandboxed = true;
      e.order.push('enableSandbox');
    },
    requestSingleInstanceLock: () => true,
    whenReady: () => {
      e.order.push('whenReady');
      return Promise.resolve();
    },
    getPath: () => e.userData,
    quit: () => undefined,
    exit: () => undefined,
  });
  class BrowserWindow extends Emitter {
    readonly webContents = Object.assign(new Emitter(), { send: () => undefined });
    private readonly record: { options: Record<string, unknown>; url: string | null };
    constructor(options: Record<string, unknown>) {
      super();
      this.record = { options, url: null };
      e.windows.push(this.record);
    }
    loadURL(url: string) {
      this.record.url = url;
      return Promise.resolve();
    }
    show() {}
    focus() {}
    isMinimized() {
      return false;
    }
    restore() {}
  }
  const session = new Session();
  e.session = session;
  return {
    app,
    BrowserWindow,
    session: { defaultSession: session },
    protocol: {
      registerSchemesAsPrivileged: (schemes: unknown[]) => {
        e.order.push('registerSchemesAsPrivileged');
        e.schemes.push(...schemes);
      },
      handle: (scheme: string, fn: (req: Request) => Promise<Response>) => e.protocolHandlers.set(scheme, fn),
    },
    ipcMain: {
      handle: (channel: string, fn: (event: unknown, payload?: unknown) => unknown) => e.invoke.set(channel, fn),
      on: (channel: string, fn: (event: unknown, payload?: unknown) => unknown) => e.on.set(channel, fn),
    },
    dialog: {
      showMessageBox: async (...args: unknown[]) => {
        e.dialogs.push(args[args.length - 1] as Record<string, unknown>);
        return { response: 0 };
      },
      showErrorBox: () => undefined,
    },
    Menu: { setApplicationMenu: () => undefined },
    Notification: Object.assign(class {}, { isSupported: () => false }),
    safeStorage: { isEncryptionAvailable: () => false, encryptString: () => Buffer.alloc(0), decryptString: () => '' },
    shell: { openExternal: async () => undefined },
  };
});

let t: TestAuthority;
const trusted = { senderFrame: frame('app://chandler/index.html') };
const untrusted = { senderFrame: frame('https://evil.example/') };

beforeAll(async () => {
  rmSync(e.userData, { recursive: true, force: true });
  t = await startAuthority();
  await import('../../desktop/src/main/main.js');
  await vi.waitFor(() => expect(e.windows.length).toBe(1), { timeout: LOADED_MS });
});

afterAll(async () => {
  await t?.cleanup();
  rmSync(e.userData, { recursive: true, force: true });
});

describe('the Electron main process', () => {
  it('registers app:// as a privileged scheme and sandboxes renderers before the app is ready', () => {
    expect(e.schemes).toEqual([{ scheme: 'app', privileges: expect.objectContaining({ standard: true, secure: true }) }]);
    expect(e.order.indexOf('registerSchemesAsPrivileged')).toBeLessThan(e.order.indexOf('whenReady'));
    expect(e.sandboxed).toBe(true);
  });

  it('opens one hardened window on app://chandler/', () => {
    const [win] = e.windows;
    const prefs = win!.options.webPreferences as Record<string, unknown>;
    expect(prefs).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, webviewTag: false });
    expect(String(prefs.preload)).toMatch(/preload[\\/]preload\.cjs$/);
    expect(win!.url).toBe('app://chandler/index.html');
  });

  it('hardens the default session', () => {
    const s = e.session as StubSession;
    expect(s.permissionRequest).not.toBeNull();
    expect(s.verifyProc).not.toBeNull();
    expect(s.allows('https://evil.example/')).toBe(false);
    expect(s.requestPermission('media', 'app://chandler/index.html')).toBe(false);
  });

  it('registers each IPC channel, and refuses callers that are not the app page', async () => {
    for (const ch of [
      IPC_CHANNELS.getServer,
      IPC_CHANNELS.chooseServer,
      IPC_CHANNELS.forgetServer,
      IPC_CHANNELS.secretGet,
      IPC_CHANNELS.secretSet,
      IPC_CHANNELS.secretDelete,
      IPC_CHANNELS.exportData,
    ]) {
      expect(e.invoke.has(ch)).toBe(true);
    }
    expect(e.on.has(IPC_CHANNELS.notify)).toBe(true);
    await expect(async () => e.invoke.get(IPC_CHANNELS.getServer)!(untrusted)).rejects.toThrow(/untrusted sender/);
    await expect(async () => e.invoke.get(IPC_CHANNELS.chooseServer)!(trusted, { address: 42 })).rejects.toThrow(/invalid payload/);
    expect(await e.invoke.get(IPC_CHANNELS.getServer)!(trusted)).toBeNull();
    await expect(async () => e.invoke.get(IPC_CHANNELS.exportData)!(untrusted, 'A'.repeat(43))).rejects.toThrow(/untrusted sender/);
    await expect(async () => e.invoke.get(IPC_CHANNELS.exportData)!(trusted, 'not a token!')).rejects.toThrow(/invalid payload/);
    expect(await e.invoke.get(IPC_CHANNELS.exportData)!(trusted, 'A'.repeat(43))).toEqual({ ok: false, reason: 'no-server' });
  });

  it('serves the app with a CSP that allows no connection before a server is chosen', async () => {
    const handler = e.protocolHandlers.get('app')!;
    const res = await handler(new Request('app://chandler/index.html'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("connect-src 'none'");
    expect(await res.text()).toContain('<div id="root">');
    expect((await handler(new Request('app://chandler/..%2f..%2fpackage.json'))).status).not.toBe(200);
  });

  it('pins the chosen server after the trust-on-first-use dialog, then lets the page reach it only', async () => {
    const port = new URL(t.url).port;
    const r = (await e.invoke.get(IPC_CHANNELS.chooseServer)!(trusted, { address: `127.0.0.1:${port}`, lang: 'fr' })) as {
      ok: boolean;
      server: { url: string; fingerprint: string };
    };
    expect(r).toEqual({ ok: true, server: { url: `wss://127.0.0.1:${port}/ws`, fingerprint: t.fingerprint, preset: false } });
    const dialog = e.dialogs[0]!;
    expect(String(dialog.detail)).toContain(t.fingerprint);
    expect(dialog.cancelId).toBe(1);
    expect(dialog.defaultId).toBe(1); // Enter does not trust by accident

    const csp = (await e.protocolHandlers.get('app')!(new Request('app://chandler/index.html'))).headers.get('content-security-policy');
    expect(csp).toContain(`connect-src wss://127.0.0.1:${port}`);
    const s = e.session as StubSession;
    expect(s.allows(`wss://127.0.0.1:${port}/ws`)).toBe(true);

    const verify = s.verifyProc as (req: { hostname: string; certificate: { data: string } }, cb: (v: number) => void) => void;
    const verdicts: number[] = [];
    verify({ hostname: '127.0.0.1', certificate: { data: t.authority.tlsMaterial!.cert } }, (v) => verdicts.push(v));
    verify({ hostname: 'evil.example', certificate: { data: t.authority.tlsMaterial!.cert } }, (v) => verdicts.push(v));
    expect(verdicts).toEqual([0, -2]);
    expect(await e.invoke.get(IPC_CHANNELS.getServer)!(trusted)).toMatchObject({ fingerprint: t.fingerprint });
  });

  it("fetches the user's data export from the pinned server for the page", async () => {
    const me = await registered(t, uniqueName('desk'));
    try {
      const r = (await e.invoke.get(IPC_CHANNELS.exportData)!(trusted, me.session!.token)) as { ok: boolean; body: string };
      expect(r.ok).toBe(true);
      expect(JSON.parse(r.body)).toMatchObject({ format: 'chandler-export-v1', server: { account: { username: me.username } } });
      expect(await e.invoke.get(IPC_CHANNELS.exportData)!(trusted, 'A'.repeat(43))).toEqual({ ok: false, reason: 'refused', status: 401 });
    } finally {
      me.close();
    }
  });
});
