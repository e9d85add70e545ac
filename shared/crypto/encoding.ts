/**
 * Byte encodings shared by the crypto modules. Runtime-neutral: atob and
 * TextEncoder/TextDecoder exist in Node 20, Electron and browsers; no Buffer.
 */

// A plain character class: a grouped, repeated pattern overflows the regexp stack on megabyte inputs.
const BASE64_CHARS = /^[A-Za-z0-9+/]*={0,2}$/;

/** Padded base64 (RFC 4648 §4) in shape: alphabet, padding only at the end, whole groups of four. */
export function isBase64(text: string): boolean {
  return typeof text === 'string' && text.length % 4 === 0 && BASE64_CHARS.test(text);
}

/** Length in characters of the padded base64 form of `byteLength` bytes. */
export function base64Length(byteLength: number): number {
  return Math.ceil(byteLength / 3) * 4;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const ALPHABET_CODES = Uint8Array.from(ALPHABET, (c) => c.charCodeAt(0));
const PAD = '='.charCodeAt(0);
const asciiDecoder = new TextDecoder();

/** Encodes into ASCII bytes, then decodes once: far faster than btoa over a binary string on large buffers. */
export function bytesToBase64(bytes: Uint8Array): string {
  const out = new Uint8Array(base64Length(bytes.length));
  let o = 0;
  for (let i = 0; i < bytes.length; i += 3) {
    const rest = bytes.length - i;
    const n = (bytes[i]! << 16) | ((rest > 1 ? bytes[i + 1]! : 0) << 8) | (rest > 2 ? bytes[i + 2]! : 0);
    out[o++] = ALPHABET_CODES[(n >> 18) & 63]!;
    out[o++] = ALPHABET_CODES[(n >> 12) & 63]!;
    out[o++] = rest > 1 ? ALPHABET_CODES[(n >> 6) & 63]! : PAD;
    out[o++] = rest > 2 ? ALPHABET_CODES[n & 63]! : PAD;
  }
  return asciiDecoder.decode(out);
}

/** The value of each base64 character by its code (below 128), -1 for every other character. */
const DECODE = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

function sextet(text: string, i: number): number {
  const code = text.charCodeAt(i);
  return code < 128 ? DECODE[code]! : -1;
}

/**
 * Decodes canonical base64, or answers null: wrong alphabet, bad padding and
 * non-zero padding bits are all refused, so each byte string has one encoding
 * (a signature or key cannot be re-encoded into a different-looking twin).
 * One pass over the text with a lookup table: it opens every DM envelope.
 */
export function base64ToBytes(text: string, expectedLength?: number): Uint8Array | null {
  if (typeof text !== 'string' || text.length % 4 !== 0) return null;
  const last = text.length - 1;
  const pad = text.length === 0 || text.charCodeAt(last) !== PAD ? 0 : text.charCodeAt(last - 1) === PAD ? 2 : 1;
  const byteLength = (text.length / 4) * 3 - pad;
  if (expectedLength !== undefined && byteLength !== expectedLength) return null;
  const out = new Uint8Array(byteLength);
  const whole = text.length - (pad ? 4 : 0);
  let o = 0;
  for (let i = 0; i < whole; i += 4) {
    const a = sextet(text, i);
    const b = sextet(text, i + 1);
    const c = sextet(text, i + 2);
    const d = sextet(text, i + 3);
    if ((a | b | c | d) < 0) return null;
    const n = (a << 18) | (b << 12) | (c << 6) | d;
    out[o++] = n >> 16;
    out[o++] = (n >> 8) & 255;
    out[o++] = n & 255;
  }
  if (pad) {
    const a = sextet(text, whole);
    const b = sextet(text, whole + 1);
    if ((a | b) < 0) return null;
    out[o] = (a << 2) | (b >> 4);
    if (pad === 2) {
      if (b & 15) return null; // bits that no byte uses must be zero
    } else {
      const c = sextet(text, whole + 2);
      if (c < 0 || c & 3) return null;
      out[o + 1] = ((b & 15) << 4) | (c >> 2);
    }
  }
  return out;
}

/** Unpadded base64url (RFC 4648 §5): safe in ids, paths and file names. */
export function bytesToBase64Url(bytes: Uint8Array): string {
  return bytesToBase64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true });

export function utf8Encode(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Decodes UTF-8, or answers null on invalid sequences (never substitutes U+FFFD). */
export function utf8Decode(bytes: Uint8Array): string | null {
  try {
    return strictDecoder.decode(bytes);
  } catch {
    return null;
  }
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Overwrites secret material once it is no longer needed. */
export function wipe(...buffers: Uint8Array[]): void {
  for (const b of buffers) b.fill(0);
}
