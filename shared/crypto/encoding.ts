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

/**
 * Decodes canonical base64, or answers null: wrong alphabet, bad padding and
 * non-zero padding bits are all refused, so each byte string has one encoding
 * (a signature or key cannot be re-encoded into a different-looking twin).
 */
export function base64ToBytes(text: string, expectedLength?: number): Uint8Array | null {
  if (!isBase64(text)) return null;
  if (expectedLength !== undefined && text.length !== base64Length(expectedLength)) return null;
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    return null;
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  if (expectedLength !== undefined && bytes.length !== expectedLength) return null;
  // Non-zero padding bits can only hide in the last group: re-encode just that one.
  const lastGroup = Math.max(0, Math.floor((bytes.length - 1) / 3));
  if (bytesToBase64(bytes.subarray(lastGroup * 3)) !== text.slice(lastGroup * 4)) return null;
  return bytes;
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
