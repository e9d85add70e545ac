/**
 * Reconnect storm: 200 real client cores dropped at once come back by themselves (jittered
 * backoff), resume, and end with every message of the room exactly once — including the ones
 * posted while they were away and the ones racing their resume.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAuthority, type TestAuthority } from '../helpers/authority.js';
import { runStorm } from './support/storm.js';

const CLIENTS = 200;

let t: TestAuthority;
beforeAll(async () => {
  t = await startAuthority({
    hashWorkers: 2,
    limits: { connectionsPerIp: CLIENTS + 20, socketsPerIp: CLIENTS + 60, newSocketsPerSecondPerIp: CLIENTS, newSocketBurstPerIp: CLIENTS * 2, messagesPerSecond: 100_000, messageBurst: 100_000 },
  });
});
afterAll(async () => {
  await t.cleanup();
});

describe('reconnect storm', () => {
  it(`${CLIENTS} clients dropped at once resume with no gap and no duplicate`, async () => {
    const report = await runStorm(t, {
      clients: CLIENTS,
      whileAway: 150,
      trickleMs: 15,
      trickleMax: 400,
      backoff: { initialMs: 400, maxMs: 3000 },
      recoverTimeoutMs: 60_000, // a guard for a starved machine; it takes ~10 s
    });
    expect(report.dropped).toBe(CLIENTS);
    expect(report.recovered).toBe(CLIENTS);
    expect(report.reconnectAttempts).toBeGreaterThanOrEqual(CLIENTS);
    expect(report.findings).toEqual([]);
    expect(report.gaps + report.duplicates + report.wrongText).toBe(0);
    // Each client holds at least the messages posted from the drop on.
    expect(report.messagesChecked).toBeGreaterThanOrEqual(CLIENTS * 150);
    console.log(`storm: ${JSON.stringify({ ...report, findings: undefined })}`);
  }, 180_000);
});
