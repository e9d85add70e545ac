/**
 * The half-done login of a connection (auth-exchange.ts): it expires, a new start replaces it,
 * and a login dropped unfinished keeps its throttle slot (a guess whose answer the client
 * already had) and is reported.
 */
import { describe, expect, it } from 'vitest';
import { ExchangeSlot, type AuthExchange } from '../../authority/src/auth-exchange.js';
import { isRefusal, WindowCounter } from '../../authority/src/throttle.js';
import { until } from '../helpers/authority.js';

function loginExchange(counter: WindowCounter, abandoned: string[], label: string): AuthExchange {
  const slot = counter.reserve('alice|127.0.0.1');
  if (isRefusal(slot)) throw new Error('refused');
  return {
    kind: 'login',
    key: 'alice',
    username: 'alice',
    userId: 1,
    serverLoginState: 'state',
    slot,
    askedAt: Date.now(),
    clientVersion: 'test',
    onAbandoned: () => abandoned.push(label),
  };
}

describe('ExchangeSlot', () => {
  it('drops an exchange not finished in time: its slot counts, it is reported, its finish finds nothing', async () => {
    const counter = new WindowCounter(2, 60_000);
    const abandoned: string[] = [];
    const slot = new ExchangeSlot(30);
    slot.begin(loginExchange(counter, abandoned, 'first'));
    expect(slot.pending).toBe('login');
    await until(() => slot.pending === null, 'expired');
    expect(abandoned).toEqual(['first']);
    expect(slot.take('login')).toBeNull();
    // The slot was kept: one more reservation fits, the one after is refused.
    slot.begin(loginExchange(counter, abandoned, 'second'));
    expect(isRefusal(counter.reserve('alice|127.0.0.1'))).toBe(true);
  });

  it('hands a finished exchange over once, unreported; a finish of the wrong kind drops it', () => {
    const counter = new WindowCounter(5, 60_000);
    const abandoned: string[] = [];
    const slot = new ExchangeSlot(60_000);
    slot.begin(loginExchange(counter, abandoned, 'a'));
    expect(slot.take('login')?.username).toBe('alice');
    expect(slot.take('login')).toBeNull();
    slot.begin(loginExchange(counter, abandoned, 'b'));
    expect(slot.take('register')).toBeNull();
    expect(slot.pending).toBeNull();
    expect(abandoned).toEqual(['b']);
    slot.begin(loginExchange(counter, abandoned, 'c'));
    slot.begin(loginExchange(counter, abandoned, 'd')); // a new start replaces it
    slot.drop();
    slot.drop(); // idempotent
    expect(abandoned).toEqual(['b', 'c', 'd']);
  });
});
