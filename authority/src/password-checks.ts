/**
 * Every check of a known user's password outside login (changePassword, deleteAccount) goes
 * through one throttle and the pool's fair queue: a stolen session token cannot guess the
 * password without limit, nor fill the hashing queue for everyone else. A new password is
 * estimated and hashed through the same queue. Shared by the account, privacy and moderation
 * handlers.
 */
import { fail, ok, type ErrorCode, type Outcome } from '../../shared/protocol/index.js';
import type { PasswordProblem } from './accounts-policy.js';
import type { Services } from './context.js';
import type { PoolAnswer } from './passwords.js';
import { isRefusal, type Refusal } from './throttle.js';

/** A throttle's refusal as the wire answer: a used-up limit, or attempts under way that fill it. */
export function refusedAnswer(r: Refusal, message?: string): Outcome<never, ErrorCode> {
  if (r.reason === 'inFlight') return fail('BUSY', { until: r.until, message: 'other attempts are under way, try again shortly' });
  return fail('TOO_MANY_ATTEMPTS', { until: r.until, message });
}

/** The pool's refusal (its queue, or this caller's share of it, is full) as the wire answer. */
export function poolBusy(r: Extract<PoolAnswer<unknown>, { ok: false }>): Outcome<never, ErrorCode> {
  return fail('BUSY', { until: r.until, message: 'the server is checking many passwords, try again shortly' });
}

/** WEAK_PASSWORD, saying why (clients translate `reason`). */
function weakPassword(problem: PasswordProblem): Outcome<never, ErrorCode> {
  return fail('WEAK_PASSWORD', { reason: problem.reason, message: `weak password: ${problem.message}` });
}

/**
 * A new password for `username`, checked against the policy and then hashed, both in the
 * password workers under the caller's `key`: the hash, WEAK_PASSWORD, or BUSY when the pool
 * (or the caller's share of it) is full, so nothing was tried.
 */
export async function hashNewPassword(s: Services, password: string, username: string, key: string): Promise<Outcome<string, ErrorCode>> {
  const weak = await s.passwords.policy(password, username, key);
  if (!weak.ok) return poolBusy(weak);
  if (weak.value) return weakPassword(weak.value);
  const hashed = await s.passwords.hash(password, key);
  return hashed.ok ? ok(hashed.value) : poolBusy(hashed);
}

/** The pool's key for work done for a signed-in user. */
export function userKey(userId: number): string {
  return `user:${userId}`;
}

/**
 * Checks the password of a signed-in user. A wrong one counts against the user's limit (and
 * past it nothing is checked, even the right one, until the window frees a slot); a right
 * one, or one the pool refused, gives its slot back.
 */
export async function checkOwnPassword(
  s: Services,
  userId: number,
  password: string,
  storedHash: string,
): Promise<Outcome<void, ErrorCode>> {
  const slot = s.throttles.passwordChecksPerUser.reserve(String(userId), s.now());
  if (isRefusal(slot)) return refusedAnswer(slot, 'too many wrong passwords, try later');
  const r = await s.passwords.verify(password, storedHash, userKey(userId)).catch((err: unknown) => {
    slot.release(); // the pool failed (closing): the attempt never ran
    throw err;
  });
  if (!r.ok) {
    slot.release();
    return poolBusy(r);
  }
  if (!r.value) {
    slot.keep(s.now());
    s.log.warn('password_check_failed', { userId });
    return fail('WRONG_PASSWORD');
  }
  slot.release();
  return ok(undefined);
}
