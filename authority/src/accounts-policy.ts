/**
 * What makes a username acceptable, and how a session token is kept (hashed): shared by the
 * account handlers, --create-admin and the export route. (Passwords: shared/password-policy.ts,
 * checked by clients, since the authority never sees one.)
 */
import { createHash } from 'node:crypto';
import { CONTROL_CHARS, LIMITS, USERNAME_PATTERN } from '../../shared/protocol/index.js';

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** An admin's reset code as kept (SHA-256), as the user may type it: case, spaces and hyphens do not matter. */
export function resetCodeHash(code: string): string {
  return createHash('sha256').update(code.toLowerCase().replace(/[\s-]/g, '')).digest('hex');
}

/**
 * OPAQUE's name for an account (its records are bound to it): the name as it logs in, NFC and
 * lower case, since names match without regard to case.
 */
export function opaqueIdentifier(username: string): string {
  return username.normalize('NFC').toLowerCase();
}

export function validUsername(name: string): boolean {
  return (
    name.length >= LIMITS.usernameMin &&
    name.length <= LIMITS.usernameMax &&
    USERNAME_PATTERN.test(name) &&
    !CONTROL_CHARS.test(name)
  );
}
