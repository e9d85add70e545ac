/**
 * The password policy on a real authority: the client core checks a new password against the
 * settings the authority announces (authPolicy) before it registers it; --create-admin applies it
 * on the server's terminal. The rules themselves: tests/shared/password-policy.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newClient, PASSWORD, registered, startAuthority, tempDir, uniqueName, type TestAuthority } from '../helpers/authority.js';
import { run } from '../helpers/process.js';
import { processTestMs } from '../helpers/timing.js';

describe('the password policy on a real authority', () => {
  let t: TestAuthority;
  beforeAll(async () => {
    t = await startAuthority();
  });
  afterAll(async () => {
    await t.cleanup();
  });

  const refusal = async (username: string, password: string) => {
    const c = newClient(t);
    const r = await c.register(username, password);
    c.close();
    return r.ok ? 'ok' : `${r.error.code} ${r.error.reason ?? '-'}`;
  };

  it('register refuses common passwords and trivial patterns with WEAK_PASSWORD and the reason', async () => {
    const name = uniqueName('weak');
    expect(await refusal(name, 'password123!')).toBe('WEAK_PASSWORD common');
    expect(await refusal(name, '            ')).toBe('WEAK_PASSWORD pattern');
    expect(await refusal(name, 'aaaaaaaaaaaa!')).toBe('WEAK_PASSWORD pattern');
    expect(await refusal(name, 'azertyuiop12!')).toBe('WEAK_PASSWORD pattern');
    expect(await refusal(name, `${name.toUpperCase()}-is-me!`)).toBe('WEAK_PASSWORD username');
    expect(await refusal(name, 'short!1')).toBe('WEAK_PASSWORD short');
    expect(await refusal(name, 'Zq8!vR2#mK5@tL9$')).toBe('ok');
  });

  it("says why in the message too, in English (for the CLI and the console)", async () => {
    const c = newClient(t);
    const r = await c.register(uniqueName('weak'), 'password123!');
    c.close();
    expect(!r.ok && r.error.message).toMatch(/weak password: too common/);
  });

  it('changePassword refuses a common password and keeps the old one', async () => {
    const c = await registered(t);
    const r = await c.changePassword(PASSWORD, 'iloveyou2024!');
    expect(!r.ok && [r.error.code, r.error.reason]).toEqual(['WEAK_PASSWORD', 'common']);
    const mine = await c.changePassword(PASSWORD, `${c.username!}-2026!`);
    expect(!mine.ok && mine.error.reason).toBe('username');
    // The policy is the client's to check (it alone has the new password): a weak one costs the
    // authority nothing, and a strong one still needs the right old password.
    const guess = await c.changePassword('not-the-password!', 'Zq8!vR2#mK5@tL9$');
    expect(!guess.ok && guess.error.code).toBe('WRONG_PASSWORD');
    const name = c.username!;
    c.close();
    const again = newClient(t);
    expect((await again.login(name, PASSWORD)).ok).toBe(true);
    again.close();
  });

  it('with --password-min-score off an authority accepts a common password, not a short one', async () => {
    const lax = await startAuthority({ passwordMinScore: 0 });
    try {
      const c = newClient(lax);
      expect((await c.register(uniqueName('lax'), 'password123!')).ok).toBe(true);
      c.close();
      const d = newClient(lax);
      const short = await d.register(uniqueName('lax'), 'short!1');
      expect(!short.ok && short.error.reason).toBe('short');
      d.close();
    } finally {
      await lax.cleanup();
    }
  });
});

describe('--create-admin', () => {
  it('refuses a common password and prints why', async () => {
    const dataDir = tempDir('chandler-create-admin-');
    const r = await run('authority/src/main.ts', ['--data', dataDir, '--create-admin', 'boss'], { CHANDLER_ADMIN_PASSWORD: 'password123!' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error WEAK_PASSWORD \(common\): too common/);
  }, processTestMs(1));
});
