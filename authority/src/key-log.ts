/**
 * The authority's key log (key transparency, issue 13 §3): every identity key a user publishes is
 * appended to an append-only Merkle log (store/key-log.ts, shared/crypto/key-log.ts) in the same
 * transaction as the directory row, and the directory announces a key only with the proof that the
 * log holds it under a head signed with the log's key. That key is an Ed25519 seed in its own
 * owner-only file of the data dir (never in the database or a backup); clients pin it on first use.
 *
 * The tree lives in memory (SubtreeCache: every complete, aligned subtree's hash, about 64 bytes a
 * binding), so that a proof costs O(log n) hashes however long the log grows: a fetchKeys is
 * answered for every friend at each login, and must stay cheap.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { base64ToBytes, bytesToBase64, publicRandomBytes } from '../../shared/crypto/index.js';
import { keyLogKeysFromSeed, keyLogLeafHash, keyLogName, signKeyLogHead } from '../../shared/crypto/key-log.js';
import { nodeHash } from '../../shared/crypto/merkle.js';
import type { KeyLogHead, KeyLogInclusion, PublicIdentity } from '../../shared/protocol/index.js';
import type { Store } from './store/index.js';
import type { KeyLogEntry } from './store/key-log.js';

export const KEY_LOG_KEY_FILE = 'key-log.key';
const SEED_BYTES = 32;
const SECRET_FILE_MODE = 0o600;

export class KeyLogKeyMissing extends Error {}

/** The log's signing seed: read, or made for a log that has no head yet; a log with entries and no key refuses to start. */
function loadSeed(dataDir: string, entries: number): Uint8Array {
  const file = join(dataDir, KEY_LOG_KEY_FILE);
  if (existsSync(file)) {
    const seed = base64ToBytes(readFileSync(file, 'utf8').trim(), SEED_BYTES);
    if (!seed) throw new KeyLogKeyMissing(`${file} is damaged: restore it from where it was kept (clients pinned its key)`);
    return seed;
  }
  if (entries > 0) {
    throw new KeyLogKeyMissing(
      `${file} is missing and the key log has ${entries} entries: restore it from where it was kept (a copy of the data directory); a new key would raise an alarm in every client`,
    );
  }
  const seed = publicRandomBytes(SEED_BYTES).slice();
  const fd = openSync(file, 'wx', SECRET_FILE_MODE);
  try {
    writeSync(fd, `${bytesToBase64(seed)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return seed;
}

/** The largest power of two below n (n ≥ 2): where RFC 9162 splits a tree of n leaves. */
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * The hashes of a left-balanced Merkle tree (RFC 9162 §2.1) kept by level: level j holds the hash
 * of each complete subtree of 2^j leaves aligned on a multiple of 2^j. Appending a leaf adds at
 * most one hash per level; the hash of any subtree the RFC's algorithms ask for (MTH(D[a:b]) with
 * a aligned) is then O(log n): its left part is always a cached complete subtree.
 */
class SubtreeCache {
  private readonly levels: Uint8Array[][] = [[]];

  get size(): number {
    return this.levels[0]!.length;
  }

  append(leaf: Uint8Array): void {
    this.levels[0]!.push(leaf);
    for (let j = 0; this.levels[j]!.length % 2 === 0; j++) {
      const below = this.levels[j]!;
      (this.levels[j + 1] ??= []).push(nodeHash(below[below.length - 2]!, below[below.length - 1]!));
    }
  }

  /** MTH(D[a:a+n]) for n ≥ 1. */
  hash(a: number, n: number): Uint8Array {
    if ((n & (n - 1)) === 0 && a % n === 0) return this.levels[Math.log2(n)]![a / n]!;
    const k = split(n);
    return nodeHash(this.hash(a, k), this.hash(a + k, n - k));
  }

  /** RFC 9162 §2.1.3.1 PATH(m, D[a:a+n]), leaf first. */
  path(m: number, a: number, n: number): Uint8Array[] {
    if (n === 1) return [];
    const k = split(n);
    return m < k ? [...this.path(m, a, k), this.hash(a + k, n - k)] : [...this.path(m - k, a + k, n - k), this.hash(a, k)];
  }

  /** RFC 9162 §2.1.4.1 SUBPROOF(m, D[a:a+n], whole). */
  subproof(m: number, a: number, n: number, whole: boolean): Uint8Array[] {
    if (m === n) return whole ? [] : [this.hash(a, n)];
    const k = split(n);
    return m <= k
      ? [...this.subproof(m, a, k, whole), this.hash(a + k, n - k)]
      : [...this.subproof(m - k, a + k, n - k, false), this.hash(a, k)];
  }
}

export class KeyLog {
  readonly publicKey: string;
  private readonly secretKey: Uint8Array;
  private readonly tree = new SubtreeCache();
  private readonly ats: number[] = [];
  private head: KeyLogHead | null = null;

  constructor(
    private readonly store: Store,
    dataDir: string,
  ) {
    const keys = keyLogKeysFromSeed(loadSeed(dataDir, store.keyLog.size()));
    this.publicKey = keys.publicKey;
    this.secretKey = keys.secretKey;
    for (const e of store.keyLog.all()) this.remember(e);
    if (this.size === 0) this.startFromDirectory();
  }

  /** A log made on upgrade starts with the directory's keys as they are. */
  private startFromDirectory(): void {
    const keys = this.store.keyLog.directory();
    if (keys.length === 0) return;
    const entries = keys.map((k, index) => ({ index, name: keyLogName(k.username), userId: k.userId, identity: k.identity, at: k.at }));
    this.store.transaction(() => entries.forEach((e) => this.store.keyLog.append(e)));
    entries.forEach((e) => this.remember(e));
  }

  private remember(e: KeyLogEntry): void {
    this.tree.append(keyLogLeafHash(e.name, e.identity, e.at));
    this.ats.push(e.at);
    this.head = null;
  }

  get size(): number {
    return this.tree.size;
  }

  /**
   * Publishes `identity` for the user: the directory row and the log's new leaf in one
   * transaction (a binding already the newest for the name is not logged again).
   */
  publish(userId: number, username: string, identity: PublicIdentity, now: number): void {
    const name = keyLogName(username);
    const latest = this.store.keyLog.latestFor(name);
    const fresh = !latest || latest.userId !== userId || latest.identity.keyId !== identity.keyId;
    const entry: KeyLogEntry = { index: this.size, name, userId, identity, at: now };
    this.store.transaction(() => {
      this.store.dms.putKeys(userId, identity, now);
      if (fresh) this.store.keyLog.append(entry);
    });
    if (fresh) this.remember(entry);
  }

  /** The newest signed head; null while the log is empty. Signed once per size (Ed25519 is deterministic). */
  currentHead(): KeyLogHead | null {
    if (this.size === 0) return null;
    this.head ??= signKeyLogHead(this.size, this.tree.hash(0, this.size), this.ats.at(-1)!, this.secretKey);
    return this.head;
  }

  /** The proof that leaf `index` is in the current tree. */
  inclusion(index: number): KeyLogInclusion {
    const head = this.currentHead()!;
    return { index, at: this.ats[index]!, path: this.tree.path(index, 0, this.size).map(bytesToBase64), head };
  }

  /** The proof that the tree of `to` leaves extends the tree of `from`; null when either is not a size the log had. */
  consistency(from: number, to: number): string[] | null {
    if (from < 1 || from > to || to > this.size) return null;
    return this.tree.subproof(from, 0, to, true).map(bytesToBase64);
  }
}
