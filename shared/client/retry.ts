/**
 * When a refused request is tried again: one policy for the room outbox and the DM relay.
 * RATE_LIMITED says until when (`until`); the wait honours it within bounds, so that a missing
 * or past `until` does not make a busy loop and a skewed clock does not stall a send for long.
 * Transient failures (no connection, no answer, the authority restarting) are not retried in
 * a loop: what they interrupted is sent again once the session is back.
 */
import type { AnyErrorCode, Failure } from '../protocol/index.js';

export const RETRY_POLICY = {
  /** Shortest wait after RATE_LIMITED. */
  rateLimitFloorMs: 250,
  /** Longest single wait after RATE_LIMITED, whatever `until` says. */
  rateLimitCeilingMs: 5000,
  /** RATE_LIMITED waits in a row before a DM waits for the next session instead. */
  maxRateLimitWaits: 20,
  /**
   * BUSY waits in a row before a login or registration reports it: the authority's hashing
   * queue was full (a whole floor logging in at 9:00 behind one NAT address); it said when.
   */
  maxBusyWaits: 30,
} as const;

/** True for failures where resending the same idempotent request later is right. */
export function isTransient(code: AnyErrorCode): boolean {
  return code === 'DISCONNECTED' || code === 'TIMEOUT' || code === 'SHUTTING_DOWN' || code === 'INTERNAL';
}

/** How long to wait before trying a rate-limited request again. */
export function rateLimitDelay(error: Pick<Failure, 'until'>, now: number = Date.now()): number {
  const asked = (error.until ?? 0) - now;
  return Math.min(RETRY_POLICY.rateLimitCeilingMs, Math.max(RETRY_POLICY.rateLimitFloorMs, asked));
}
