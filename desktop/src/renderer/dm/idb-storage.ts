/**
 * DmStorage on IndexedDB: the sealed device identity and the sealed DM history of each user
 * of this browser profile. Values are opaque encrypted bytes; each write is one transaction,
 * so a crash leaves the old value or the new one.
 */
import type { DmStorage } from '../../../../shared/client/dm/index.js';

export const DM_DB_NAME = 'chandler-dm';
const STORE = 'files';
const DB_VERSION = 1;

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error ?? new Error('IndexedDB request failed'));
  });
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
  });
}

export class IndexedDbStorage implements DmStorage {
  private db: Promise<IDBDatabase> | null = null;

  constructor(private readonly name: string = DM_DB_NAME) {}

  private open(): Promise<IDBDatabase> {
    this.db ??= new Promise((resolve, reject) => {
      const r = indexedDB.open(this.name, DB_VERSION);
      r.onupgradeneeded = () => {
        if (!r.result.objectStoreNames.contains(STORE)) r.result.createObjectStore(STORE);
      };
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error ?? new Error('cannot open IndexedDB'));
    });
    return this.db;
  }

  async read(name: string): Promise<Uint8Array | null> {
    const db = await this.open();
    const value: unknown = await request(db.transaction(STORE, 'readonly').objectStore(STORE).get(name));
    return value instanceof Uint8Array ? value : null;
  }

  async write(name: string, data: Uint8Array): Promise<void> {
    const db = await this.open();
    const tx = db.transaction(STORE, 'readwrite');
    tx.objectStore(STORE).put(data.slice(), name);
    await done(tx);
  }

  async remove(name: string): Promise<void> {
    const db = await this.open();
    const tx = db.transaction(STORE, 'readwrite');
    tx.objectStore(STORE).delete(name);
    await done(tx);
  }

  /** Closes the connection (after pending transactions). Idempotent. */
  async close(): Promise<void> {
    const db = this.db;
    this.db = null;
    if (db) (await db).close();
  }
}
