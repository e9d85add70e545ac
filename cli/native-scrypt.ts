/** Node's native scrypt for the portable crypto module: the CLI unseals device keys several times faster. */
import { scrypt } from 'node:crypto';
import type { ScryptFn } from '../shared/crypto/index.js';

export const nativeScrypt: ScryptFn = (secret, salt, { N, r, p, dkLen }) =>
  new Promise((resolve, reject) => {
    scrypt(secret, salt, dkLen, { N, r, p, maxmem: 256 * N * r }, (err, key) =>
      err ? reject(err) : resolve(new Uint8Array(key.buffer, key.byteOffset, key.length)),
    );
  });
