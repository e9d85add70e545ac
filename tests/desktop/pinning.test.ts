/**
 * Certificate pinning and the server choice against a real authority (real TLS): the probe reads
 * the fingerprint the authority printed, the verify procedure accepts only that certificate for
 * that host, and the user's answer to the trust dialog decides what is saved.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certificateFingerprint, makeVerifyProc, probeFingerprint, VERIFY_FAIL, VERIFY_OK } from '../../desktop/src/main/pinning.js';
import { ServerStore } from '../../desktop/src/main/server-config.js';
import { chooseServer } from '../../desktop/src/main/tofu.js';
import { startAuthority, type TestAuthority } from '../helpers/authority.js';

let t: TestAuthority;
let port: number;
const dir = mkdtempSync(join(tmpdir(), 'chandler-pin-'));

beforeAll(async () => {
  t = await startAuthority();
  port = Number(new URL(t.url).port);
}, 60_000);

afterAll(async () => {
  await t?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

function verdict(proc: ReturnType<typeof makeVerifyProc>, hostname: string, pem: string): number {
  let v: number | null = null;
  proc({ hostname, certificate: { data: pem } }, (x) => (v = x));
  return v!;
}

describe('pinning', () => {
  it('reads the fingerprint the authority printed', async () => {
    expect(await probeFingerprint('127.0.0.1', port)).toBe(t.fingerprint);
    expect(certificateFingerprint(t.authority.tlsMaterial!.cert)).toBe(t.fingerprint);
  });

  it('gives up on a server that is not there, or does not speak TLS', async () => {
    const plain = createServer((s) => s.end('hello\n'));
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
    const plainPort = (plain.address() as { port: number }).port;
    expect(await probeFingerprint('127.0.0.1', plainPort, 3000)).toBeNull();
    plain.close();
    expect(await probeFingerprint('127.0.0.1', plainPort, 3000)).toBeNull();
  });

  it('accepts the pinned certificate for the pinned host only', () => {
    const mismatches: string[] = [];
    const pem = t.authority.tlsMaterial!.cert;
    const pinned = makeVerifyProc(() => ({ host: '127.0.0.1', fingerprint: t.fingerprint! }), (host) => mismatches.push(host));
    expect(verdict(pinned, '127.0.0.1', pem)).toBe(VERIFY_OK);
    expect(verdict(pinned, 'other.lan', pem)).toBe(VERIFY_FAIL);
    expect(verdict(pinned, '127.0.0.1', 'not a certificate')).toBe(VERIFY_FAIL);

    const otherPin = makeVerifyProc(() => ({ host: '127.0.0.1', fingerprint: 'AA:'.repeat(31) + 'AA' }), (host) => mismatches.push(host));
    expect(verdict(otherPin, '127.0.0.1', pem)).toBe(VERIFY_FAIL);
    expect(mismatches).toEqual(['127.0.0.1']);

    const none = makeVerifyProc(() => null, () => undefined);
    expect(verdict(none, '127.0.0.1', pem)).toBe(VERIFY_FAIL);
  });
});

describe('choosing a server (trust on first use)', () => {
  const userFile = join(dir, 'server.json');
  const presetFile = join(dir, 'preset.json');
  const store = () => new ServerStore(userFile, [presetFile]);
  const probe = (host: string, p: number) => probeFingerprint(host, p, 3000);

  it('saves nothing when the user does not trust the certificate', async () => {
    let shown = '';
    const r = await chooseServer(
      { address: `127.0.0.1:${port}`, lang: 'fr' },
      { servers: store(), probe, confirm: async (_s, fp) => ((shown = fp), false) },
    );
    expect(r).toEqual({ ok: false, reason: 'declined' });
    expect(shown).toBe(t.fingerprint);
    expect(existsSync(userFile)).toBe(false);
  });

  it('pins the fingerprint the user saw when they trust it', async () => {
    const r = await chooseServer({ address: `wss://127.0.0.1:${port}/ws`, lang: 'en' }, { servers: store(), probe, confirm: async () => true });
    expect(r).toEqual({ ok: true, server: { url: `wss://127.0.0.1:${port}/ws`, fingerprint: t.fingerprint, preset: false } });
    expect(JSON.parse(readFileSync(userFile, 'utf8'))).toEqual({ server: `127.0.0.1:${port}`, fingerprint: t.fingerprint });
    expect(store().current()).toMatchObject({ host: '127.0.0.1', port, fingerprint: t.fingerprint, preset: false });
  });

  it('says why it cannot', async () => {
    const deps = { servers: store(), probe, confirm: async () => true };
    expect(await chooseServer({ address: 'not a host!', lang: 'fr' }, deps)).toEqual({ ok: false, reason: 'invalid-address' });
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const closedPort = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    expect(await chooseServer({ address: `127.0.0.1:${closedPort}`, lang: 'fr' }, deps)).toEqual({ ok: false, reason: 'unreachable' });
  });

  it('leaves the choice to IT when a preset file exists, which wins over the user file', async () => {
    writeFileSync(presetFile, JSON.stringify({ server: `localhost:${port}`, fingerprint: t.fingerprint!.replace(/:/g, '').toLowerCase() }));
    expect(await chooseServer({ address: `127.0.0.1:${port}`, lang: 'fr' }, { servers: store(), probe, confirm: async () => true })).toEqual({
      ok: false,
      reason: 'preset',
    });
    expect(store().current()).toMatchObject({ host: 'localhost', fingerprint: t.fingerprint, preset: true });
    rmSync(presetFile);
  });
});
