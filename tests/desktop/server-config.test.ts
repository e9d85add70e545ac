/** Server addresses and the IT preset file are parsed strictly, with a reason when refused. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseServerAddress, presetConfigPaths, readServerFile, ServerStore } from '../../desktop/src/main/server-config.js';

const dir = mkdtempSync(join(tmpdir(), 'chandler-cfg-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FP = 'AB:'.repeat(31) + 'AB';

describe('server addresses', () => {
  it('accepts the usual ways of writing one', () => {
    expect(parseServerAddress('chat.corp.lan')).toEqual({ host: 'chat.corp.lan', port: 7443, url: 'wss://chat.corp.lan:7443/ws' });
    expect(parseServerAddress(' Chat.Corp.lan:8443 ')).toEqual({ host: 'chat.corp.lan', port: 8443, url: 'wss://chat.corp.lan:8443/ws' });
    expect(parseServerAddress('https://10.0.0.5:7443/')).toEqual({ host: '10.0.0.5', port: 7443, url: 'wss://10.0.0.5:7443/ws' });
    expect(parseServerAddress('wss://10.0.0.5:7443/ws')?.url).toBe('wss://10.0.0.5:7443/ws');
    expect(parseServerAddress('[fd00::5]:7443')).toEqual({ host: 'fd00::5', port: 7443, url: 'wss://[fd00::5]:7443/ws' });
  });

  it('refuses plaintext, credentials, paths, queries and junk', () => {
    for (const bad of ['', 'ws://chat.lan/ws', 'http://chat.lan', 'wss://u:p@chat.lan', 'chat.lan/admin', 'chat.lan?x=1', 'chat lan', 'chat.lan:99999', '-bad-.lan', 'file:///etc/passwd']) {
      expect(parseServerAddress(bad), bad).toBeNull();
    }
  });
});

describe('config files', () => {
  const file = (name: string, content: string) => {
    const p = join(dir, name);
    writeFileSync(p, content);
    return p;
  };

  it('reads a valid file, normalising the fingerprint', () => {
    const r = readServerFile(file('ok.json', JSON.stringify({ server: 'chat.lan:7443', fingerprint: FP.replace(/:/g, '').toLowerCase() })), true);
    expect(r).toEqual({ ok: true, server: { host: 'chat.lan', port: 7443, url: 'wss://chat.lan:7443/ws', fingerprint: FP, preset: true } });
  });

  it('says what is wrong with a bad one', () => {
    expect(readServerFile(file('a.json', '{nope'), true)).toMatchObject({ ok: false, reason: expect.stringContaining('JSON') });
    expect(readServerFile(file('b.json', JSON.stringify({ server: 'chat.lan' })), true)).toMatchObject({ ok: false, reason: expect.stringContaining('expected') });
    expect(readServerFile(file('c.json', JSON.stringify({ server: 'http://chat.lan', fingerprint: FP })), true)).toMatchObject({ ok: false, reason: expect.stringContaining('server') });
    expect(readServerFile(file('d.json', JSON.stringify({ server: 'chat.lan', fingerprint: 'AB:CD' })), true)).toMatchObject({ ok: false, reason: expect.stringContaining('fingerprint') });
    expect(readServerFile(file('e.json', JSON.stringify({ server: 'chat.lan', fingerprint: FP, extra: 1 })), true)).toMatchObject({ ok: false });
  });

  it('looks in the env path, next to the app, then the system location', () => {
    expect(presetConfigPaths({ CHANDLER_DESKTOP_CONFIG: '/x/c.json' }, 'linux', '/opt/CHandler/resources')).toEqual([
      '/x/c.json',
      '/opt/CHandler/resources/chandler-desktop.json',
      '/etc/chandler/desktop.json',
    ]);
    expect(presetConfigPaths({ ProgramData: 'D:\\PD' }, 'win32', undefined)).toEqual([join('D:\\PD', 'CHandler', 'desktop.json')]);
  });

  it('never falls back to the user file when the preset is broken', () => {
    const preset = file('broken-preset.json', '{');
    const user = file('user.json', JSON.stringify({ server: 'mine.lan', fingerprint: FP }));
    const store = new ServerStore(user, [preset]);
    expect(store.preset()).toMatchObject({ ok: false });
    expect(store.current()).toBeNull();
    expect(new ServerStore(user, [join(dir, 'absent.json')]).current()).toMatchObject({ host: 'mine.lan', preset: false });
  });
});
