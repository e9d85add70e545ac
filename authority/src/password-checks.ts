/**
 * The answers of the throttles and the password pool as wire failures, the pool's keys, and a
 * signed-in user's proof of their password (OPAQUE, after reauthStart): shared by the account
 * and privacy handlers.
 */
import { fail, ok, type ErrorCode, type Outcome } from '../../shared/protocol/index.js';
import type { AuthExchange } from './auth-exchange.js';
import type { Connection } from './connection.js';
import type { Services } from './context.js';
import type { PoolAnswer } from './passwords.js';
import type { Refusal } from './throttle.js';

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

/** Puts an exchange back after the pool said BUSY: the client sends the same finish again, as told. */
export function busyAgain(c: Connection, ex: AuthExchange, r: Extract<PoolAnswer<unknown>, { ok: false }>) {
  c.exchange.begin(ex);
  return poolBusy(r);
}

/**
 * Checks a signed-in user's proof of their password (after reauthStart): the exchange, or
 * WRONG_PASSWORD (counted), NO_AUTH_EXCHANGE, BUSY (the exchange is kept for the retry).
 */
export async function provePassword(
  s: Services,
  c: Connection,
  finishLoginRequest: string,
): Promise<Outcome<Extract<AuthExchange, { kind: 'reauth' }>, ErrorCode>> {
  const me = c.user;
  if (!me) return fail('NOT_AUTHENTICATED');
  const ex = c.exchange.take('reauth');
  if (!ex || ex.userId !== me.id) {
    ex?.slot.release();
    return fail('NO_AUTH_EXCHANGE');
  }
  const r = await s.passwords.opaqueLoginFinish(ex.serverLoginState, finishLoginRequest, userKey(me.id));
  if (!r.ok) return busyAgain(c, ex, r);
  if (!r.value) {
    ex.slot.keep(s.now());
    s.log.warn('password_check_failed', { userId: me.id });
    return fail('WRONG_PASSWORD');
  }
  ex.slot.release();
  // While the proof ran, the connection or session may have ended, or the account been erased.
  if (c.closed || c.user !== me || !s.store.users.byId(me.id)) return fail('INVALID_SESSION');
  return ok(ex);
}
