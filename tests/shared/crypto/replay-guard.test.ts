import { describe, expect, it } from 'vitest';
import { REPLAY_DEFAULTS, ReplayGuard } from '../../../shared/crypto/index.js';

const NOW = 1_700_000_000_000;

describe('ReplayGuard', () => {
  it('admits an id once per conversation', () => {
    const guard = new ReplayGuard({ now: () => NOW });
    expect(guard.admit('alice', 'id-1', NOW)).toBeNull();
    expect(guard.admit('alice', 'id-1', NOW)).toBe('REPLAYED');
    expect(guard.admit('carol', 'id-1', NOW)).toBeNull();
  });

  it('check does not record', () => {
    const guard = new ReplayGuard({ now: () => NOW });
    expect(guard.check('alice', 'id-1', NOW)).toBeNull();
    expect(guard.admit('alice', 'id-1', NOW)).toBeNull();
  });

  it('refuses timestamps outside the window', () => {
    const guard = new ReplayGuard({ now: () => NOW });
    expect(guard.admit('alice', 'old', NOW - REPLAY_DEFAULTS.maxAgeMs - 1)).toBe('STALE');
    expect(guard.admit('alice', 'future', NOW + REPLAY_DEFAULTS.maxFutureSkewMs + 1)).toBe('STALE');
    expect(guard.admit('alice', 'nan', Number.NaN)).toBe('STALE');
    expect(guard.admit('alice', 'edge', NOW - REPLAY_DEFAULTS.maxAgeMs)).toBeNull();
  });

  it('keeps bounded memory and fails closed for what it has forgotten', () => {
    const guard = new ReplayGuard({ now: () => NOW, maxIds: 3 });
    for (let i = 1; i <= 5; i++) expect(guard.admit('alice', `id-${i}`, NOW - 100 + i)).toBeNull();
    // id-1 and id-2 were forgotten: replaying them is refused by timestamp, not accepted.
    expect(guard.admit('alice', 'id-1', NOW - 99)).toBe('STALE');
    expect(guard.admit('alice', 'id-2', NOW - 98)).toBe('STALE');
    expect(guard.admit('alice', 'id-5', NOW - 95)).toBe('REPLAYED');
    // Newer messages still pass.
    expect(guard.admit('alice', 'id-6', NOW - 90)).toBeNull();
  });

  it('forget clears one conversation', () => {
    const guard = new ReplayGuard({ now: () => NOW });
    guard.admit('alice', 'id-1', NOW);
    guard.admit('carol', 'id-1', NOW);
    guard.forget('alice');
    expect(guard.admit('alice', 'id-1', NOW)).toBeNull();
    expect(guard.admit('carol', 'id-1', NOW)).toBe('REPLAYED');
  });
});
