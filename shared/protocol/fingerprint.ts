/**
 * Certificate fingerprints as people read them: SHA-256 in colon-separated upper-case hex.
 * Accepts any case, with or without colons or spaces; null when it is not 32 bytes of hex.
 */
export function normalizeFingerprint(text: string): string | null {
  const hex = text.replace(/[:\s]/g, '').toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) return null;
  return (hex.match(/../g) ?? []).join(':');
}
