/**
 * The DM engine wired for the renderer: IndexedDB storage, the browser's own WebRTC through
 * simple-peer's standalone bundle, and sql.js's asm.js build (chosen when the CSP allowed no
 * WebAssembly; it now allows compiling it, for OPAQUE's login). Loaded on demand: it is the
 * heaviest part of the app.
 */
import SimplePeer from 'simple-peer/simplepeer.min.js';
import initSqlJs from 'sql.js/dist/sql-asm.js';
import type { SqlJsStatic } from 'sql.js';
import type { ChandlerClient } from '../../../../shared/client/index.js';
import {
  deviceFileName,
  DmEngine,
  historyName,
  identityName,
  type CreatePeer,
  type DmEngineOptions,
  type PeerLike,
} from '../../../../shared/client/dm/index.js';
import { IndexedDbStorage } from './idb-storage.js';

let sql: Promise<SqlJsStatic> | null = null;

export const createBrowserPeer: CreatePeer = (opts) => new SimplePeer(opts) as PeerLike;

/** How this browser (or the desktop app) is named in the user's device list: "Chrome on Linux". */
export function browserDeviceName(userAgent: string = navigator.userAgent): string {
  const app = /Electron\//.test(userAgent)
    ? 'CHandler desktop'
    : /Edg\//.test(userAgent)
      ? 'Edge'
      : /Firefox\//.test(userAgent)
        ? 'Firefox'
        : /Chrom(e|ium)\//.test(userAgent)
          ? 'Chromium'
          : /Safari\//.test(userAgent)
            ? 'Safari'
            : 'Browser';
  const os = /Windows/.test(userAgent) ? 'Windows' : /Mac OS X/.test(userAgent) ? 'macOS' : /Android/.test(userAgent) ? 'Android' : /Linux/.test(userAgent) ? 'Linux' : null;
  return os ? `${app} on ${os}` : app;
}

export function createBrowserDmEngine(client: ChandlerClient, options: Partial<DmEngineOptions> = {}): DmEngine {
  return new DmEngine(client, {
    storage: new IndexedDbStorage(),
    createPeer: createBrowserPeer,
    loadSql: () => (sql ??= initSqlJs()),
    deviceName: browserDeviceName(),
    ...options,
  });
}

/**
 * Removes one user's sealed DM history and device keys from this browser profile, once their
 * account is gone (call it after the engine has closed, or it would save the history again).
 */
export async function forgetDeviceUser(username: string): Promise<void> {
  const storage = new IndexedDbStorage();
  try {
    await storage.remove(historyName(username));
    await storage.remove(identityName(username));
    await storage.remove(deviceFileName(username));
  } finally {
    await storage.close();
  }
}
