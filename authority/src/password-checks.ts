/**
 * Every check of a known user's password outside login (changePassword, deleteAccount) goes
 * through one throttle and the pool's fair queue: a stolen session token cannot guess the
 * password without limit, nor fill the hashing queue for everyone else. Shared by the
 * account and privacy handlers.
 */
import { fail, ok, type ErrorCode, type Outcome } from '../../shared/protocol/index.js';
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
