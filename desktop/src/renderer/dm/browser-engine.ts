/**
 * The DM engine wired for the renderer: IndexedDB storage, the browser's own WebRTC through
 * simple-peer's standalone bundle, and sql.js's asm.js build (the web client's CSP allows no
 * WebAssembly compilation). Loaded on demand: it is the heaviest part of the app.
 */
import SimplePeer from 'simple-peer/simplepeer.min.js';
import initSqlJs from 'sql.js/dist/sql-asm.js';
import type { SqlJsStatic } from 'sql.js';
import type { ChandlerClient } from '../../../../shared/client/index.js';
import { DmEngine, type CreatePeer, type DmEngineOptions, type PeerLike } from '../../../../shared/client/dm/index.js';
import { IndexedDbStorage } from './idb-storage.js';

let sql: Promise<SqlJsStatic> | null = null;

export const createBrowserPeer: CreatePeer = (opts) => new SimplePeer(opts) as PeerLike;

export function createBrowserDmEngine(client: ChandlerClient, options: Partial<DmEngineOptions> = {}): DmEngine {
  return new DmEngine(client, {
    storage: new IndexedDbStorage(),
    createPeer: createBrowserPeer,
    loadSql: () => (sql ??= initSqlJs()),
    ...options,
  });
}
