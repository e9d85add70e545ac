/** The DM engine wired for Node: key and history files under the CLI's home, WebRTC from wrtc, sql.js from node_modules. */
import { join } from 'node:path';
import initSqlJs, { type SqlJsStatic } from 'sql.js';
import type { ChandlerClient } from '../../shared/client/index.js';
import { DmEngine, type DmEngineOptions } from '../../shared/client/dm/index.js';
import { chandlerHome } from '../known-hosts.js';
import { FileDmStorage } from './file-storage.js';
import { createNodePeer } from './node-peer.js';

export { FileDmStorage } from './file-storage.js';
export { createNodePeer } from './node-peer.js';

let sql: Promise<SqlJsStatic> | null = null;

/** sql.js is loaded once per process. */
export function loadNodeSql(): Promise<SqlJsStatic> {
  sql ??= initSqlJs();
  return sql;
}

/** Where this device keeps DM keys and history: $CHANDLER_HOME/dm (default ~/.chandler/dm). */
export function dmDir(home: string = chandlerHome()): string {
  return join(home, 'dm');
}

export function createNodeDmEngine(
  client: ChandlerClient,
  options: Partial<DmEngineOptions> & { dir?: string } = {},
): DmEngine {
  const { dir, ...rest } = options;
  return new DmEngine(client, {
    storage: new FileDmStorage(dir ?? dmDir()),
    createPeer: createNodePeer,
    loadSql: loadNodeSql,
    ...rest,
  });
}
