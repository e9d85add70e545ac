/**
 * Issue 12, item 7: requestAccess and requestFriend were not rate-limited — 200 of each pushed
 * 200 events to every admin (or to the asked user). Now a repeated request while one waits
 * notifies nobody, and new requests draw on a per-user bucket (RATE_LIMITED with until).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerEvent } from '../../shared/protocol/index.js';
import { adminClient, registered, startAuthority, until, type TestAuthority } from '../helpers/authority.js';

let t: TestAuthority;
const BURST = 10;
beforeAll(async () => {
  t = await startAuthority({ limits: { requestsPerMinute: 6, requestBurst: BURST } });
});
afterAll(async () => {
  await t.cleanup();
});

describe('request floods', () => {
  it('200 access requests for one room notify the admins once', async () => {
    const admin = await adminClient(t);
    const user = await registered(t);
    const events: ServerEvent[] = [];
    admin.on('event', (e) => events.push(e));
    const rs = await Promise.all(Array.from({ length: 200 }, () => user.call('requestAccess', { room: 'Comptabilité' })));
    expect(rs.every((r) => r.ok && r.value.access === 'pending')).toBe(true);
    await until(() => events.some((e) => e.ev === 'accessRequested' && e.username === user.username), 'admin told');
    // A marker after the flood: once it arrives, every event of the flood has too.
    const marker = await registered(t);
    expect((await marker.call('requestAccess', { room: 'Informatique' })).ok).toBe(true);
    await until(() => events.some((e) => e.ev === 'accessRequested' && e.username === marker.username), 'marker');
    expect(events.filter((e) => e.ev === 'accessRequested' && e.username === user.username)).toHaveLength(1);
    admin.close();
    user.close();
    marker.close();
  });

  it('friend requests to many people are cut by the per-user bucket, with until', async () => {
    const asker = await registered(t);
    const targets = await Promise.all(Array.from({ length: BURST + 5 }, () => registered(t)));
    const told: string[] = [];
    for (const target of targets) {
      target.on('event', (e) => {
        if (e.ev === 'friendRequested') told.push(target.username!);
      });
    }
    const rs = [];
    for (const target of targets) rs.push(await asker.call('requestFriend', { username: target.username! }));
    const passed = rs.filter((r) => r.ok).length;
    const limited = rs.filter((r) => !r.ok && r.error.code === 'RATE_LIMITED');
    expect(passed).toBeLessThanOrEqual(BURST + 1); // the burst, and at most one refilled meanwhile
    expect(limited.length).toBeGreaterThanOrEqual(4);
    expect(limited.every((r) => !r.ok && typeof r.error.until === 'number' && r.error.until > Date.now() - 1000)).toBe(true);
    // Asking the same person again while the request waits notifies nobody and costs nothing.
    const again = await asker.call('requestFriend', { username: targets[0]!.username! });
    expect(again.ok && again.value.state).toBe('outgoing');
    await until(() => told.length >= passed, 'the requested users told');
    expect(told.filter((n) => n === targets[0]!.username)).toHaveLength(1);
    asker.close();
    for (const target of targets) target.close();
  });
});
