/**
 * What makes a username and a password acceptable, and how a session token is kept (hashed):
 * shared by the account handlers, the admin's password reset, --create-admin and the export route.
 */
import { createHash } from 'node:crypto';
import { CONTROL_CHARS, LIMITS, USERNAME_PATTERN } from '../../shared/protocol/index.js';

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function validUsername(name: string): boolean {
  return (
    name.length >= LIMITS.usernameMin &&
    name.length <= LIMITS.usernameMax &&
    USERNAME_PATTERN.test(name) &&
    !CONTROL_CHARS.test(name)
  );
}

/** The seed's advice: long, with at least one character that is not a letter or digit. */
export function passwordPolicyError(password: string, minLength: number): string | null {
  if ([...password].length < minLength) return `at least ${minLength} characters`;
  if (!/[^\p{L}\p{N}]/u.test(password)) return 'at least one character that is not a letter or digit';
  if (CONTROL_CHARS.test(password)) return 'no control characters';
  return null;
}
