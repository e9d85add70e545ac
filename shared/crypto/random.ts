/**
 * Random bytes for values that are public once used — nonces, message ids — drawn from a pool
 * refilled 4 KiB at a time. Each call to the platform's generator has a fixed cost (a webcrypto
 * call, a libuv job in Node's randomBytes) that dominated sealing a small DM; the bytes
 * themselves are the same CSPRNG output either way, and each is handed out once, then zeroed.
 * Never use it for secret keys: those come from nacl.randomBytes, so that no copy of them
 * waits in a pool.
 */
import nacl from 'tweetnacl';

const POOL_BYTES = 4096;
let pool: Uint8Array = new Uint8Array(0);
let at = 0;

export function publicRandomBytes(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0) throw new RangeError('publicRandomBytes: n must be a whole number');
  if (n > POOL_BYTES) return nacl.randomBytes(n);
  if (at + n > pool.length) {
    pool = nacl.randomBytes(POOL_BYTES);
    at = 0;
  }
  const out = pool.slice(at, at + n);
  pool.fill(0, at, at + n);
  at += n;
  return out;
}
