/**
 * The key directory as an append-only, signed log (key transparency, issue 13 §3): every
 * (user → identity key) binding the authority ever announced is a leaf of a Merkle tree
 * (merkle.ts, RFC 9162), and the authority signs each tree head with a key of its own. A client
 * accepts a friend's key only with a proof that it is in the tree under a head it can check, and
 * only when that head extends every head it saw before (consistency); each client also reads the
 * log's entries for its own name, so a binding it did not publish is seen. Runtime-neutral.
 */
import nacl from 'tweetnacl';
import type { KeyLogHead, PublicIdentity } from '../protocol/index.js';
import { base64ToBytes, bytesToBase64 } from './encoding.js';
import { leafHash, verifyConsistency, verifyInclusion } from './merkle.js';

const utf8 = new TextEncoder();
const HASH_BYTES = 32;
const KEY_BYTES = 32;
const SIGNATURE_BYTES = 64;

/** The log's name for a user: as names match (NFC, any case). */
export function keyLogName(username: string): string {
  return username.normalize('NFC').toLowerCase();
}

/** A leaf's bytes: the binding and when it was logged, in one canonical line. */
export function keyLogLeaf(username: string, identity: PublicIdentity, at: number): Uint8Array {
  const { keyId, boxPublicKey, signPublicKey, signature } = identity;
  return utf8.encode(`chandler-keylog-leaf-v1|${keyLogName(username)}|${keyId}|${boxPublicKey}|${signPublicKey}|${signature}|${at}`);
}

export function keyLogLeafHash(username: string, identity: PublicIdentity, at: number): Uint8Array {
  return leafHash(keyLogLeaf(username, identity, at));
}

/** What the authority signs for a head: the tree's size and root, and when it was reached. */
function headStatement(size: number, root: string, at: number): Uint8Array {
  return utf8.encode(`chandler-keylog-head-v1|${size}|${root}|${at}`);
}

/** A signed head of the tree whose root is `root` (32 bytes), with the log's secret key. */
export function signKeyLogHead(size: number, root: Uint8Array, at: number, secretKey: Uint8Array): KeyLogHead {
  const rootText = bytesToBase64(root);
  const signature = nacl.sign.detached(headStatement(size, rootText, at), secretKey);
  return { size, root: rootText, at, signature: bytesToBase64(signature) };
}

/** True when `head` is signed by the log key `publicKey` (base64). Never throws. */
export function verifyKeyLogHead(head: KeyLogHead, publicKey: string): boolean {
  const key = base64ToBytes(publicKey, KEY_BYTES);
  const sig = base64ToBytes(head.signature, SIGNATURE_BYTES);
  if (!key || !sig || !base64ToBytes(head.root, HASH_BYTES)) return false;
  if (!Number.isSafeInteger(head.size) || head.size < 1 || !Number.isSafeInteger(head.at)) return false;
  return nacl.sign.detached.verify(headStatement(head.size, head.root, head.at), sig, key);
}

function hashes(path: readonly string[]): Uint8Array[] | null {
  const out: Uint8Array[] = [];
  for (const h of path) {
    const bytes = base64ToBytes(h, HASH_BYTES);
    if (!bytes) return null;
    out.push(bytes);
  }
  return out;
}

/** True when the binding (logged at `at`, leaf `index`) is in the tree of `head`, by `path`. */
export function verifyKeyLogInclusion(
  username: string,
  identity: PublicIdentity,
  at: number,
  index: number,
  path: readonly string[],
  head: KeyLogHead,
): boolean {
  const proof = hashes(path);
  const root = base64ToBytes(head.root, HASH_BYTES);
  if (!proof || !root) return false;
  return verifyInclusion(keyLogLeafHash(username, identity, at), index, head.size, proof, root);
}

/** True when `newer` extends `older` (the log only grew between them), by `path`. */
export function verifyKeyLogConsistency(older: KeyLogHead, newer: KeyLogHead, path: readonly string[]): boolean {
  const proof = hashes(path);
  const oldRoot = base64ToBytes(older.root, HASH_BYTES);
  const newRoot = base64ToBytes(newer.root, HASH_BYTES);
  if (!proof || !oldRoot || !newRoot) return false;
  return verifyConsistency(older.size, newer.size, oldRoot, newRoot, proof);
}

/** A new log key pair (the authority's, kept in its data dir). */
export function newKeyLogKeys(): { publicKey: string; secretKey: Uint8Array } {
  const pair = nacl.sign.keyPair();
  return { publicKey: bytesToBase64(pair.publicKey), secretKey: pair.secretKey };
}

export function keyLogKeysFromSeed(seed: Uint8Array): { publicKey: string; secretKey: Uint8Array } {
  const pair = nacl.sign.keyPair.fromSeed(seed);
  return { publicKey: bytesToBase64(pair.publicKey), secretKey: pair.secretKey };
}
