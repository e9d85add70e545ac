/** One retry policy for the outbox and the DM relay: RATE_LIMITED's `until`, within bounds; transient codes. */
import { describe, expect, it } from 'vitest';
import { isTransient, rateLimitDelay, RETRY_POLICY } from '../../../shared/client/index.js';

describe('the retry policy', () => {
  it('waits until the authority said, never less than the floor nor more than the ceiling', () => {
    const now = 1_000_000;
    expect(rateLimitDelay({ until: now + 1200 }, now)).toBe(1200);
    expect(rateLimitDelay({ until: now - 5000 }, now)).toBe(RETRY_POLICY.rateLimitFloorMs);
    expect(rateLimitDelay({}, now)).toBe(RETRY_POLICY.rateLimitFloorMs);
    expect(rateLimitDelay({ until: now + 3_600_000 }, now)).toBe(RETRY_POLICY.rateLimitCeilingMs);
  });

  it('resends later after a lost connection or an unanswered request, never after a refusal', () => {
    for (const code of ['DISCONNECTED', 'TIMEOUT', 'SHUTTING_DOWN', 'INTERNAL'] as const) expect(isTransient(code)).toBe(true);
    for (const code of ['RATE_LIMITED', 'BUSY', 'NOT_A_MEMBER', 'TEXT_TOO_LONG', 'KEY_CHANGED', 'LOCKED'] as const) expect(isTransient(code)).toBe(false);
  });
});
