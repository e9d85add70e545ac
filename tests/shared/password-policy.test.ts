/**
 * The password policy (issue 12 item 7), checked by clients since the authority never sees a
 * password (OPAQUE, issue 13): the seed's rules, then trivial patterns, the username, and the
 * zxcvbn estimator's common passwords and keyboard rows; each refusal says why (`reason`).
 */
import { describe, expect, it } from 'vitest';
import { defaultConfig, parseCommandLine } from '../../authority/src/config.js';
import { oneTimeCode } from '../../authority/src/handlers/moderation.js';
import { passwordPolicyError } from '../../shared/password-policy.js';
import type { PasswordWeakness } from '../../shared/protocol/index.js';
import { PASSWORD } from '../helpers/authority.js';

const rules = defaultConfig();
const reasonOf = async (password: string, username?: string) => (await passwordPolicyError(password, rules, username))?.reason ?? 'ok';

/** Each password a user might try, and why the policy refuses it. */
const REFUSED: [string, PasswordWeakness][] = [
  ['short!1', 'short'],
  ['longenoughbutplain1', 'symbol'],
  ['control\u0007chars!', 'control'],
  ['password123!', 'common'],
  ['iloveyou2024!', 'common'],
  ['P@ssw0rd1234!', 'common'],
  ['            ', 'pattern'],
  ['   \u00a0 a1!\u3000    ', 'pattern'],
  ['aaaaaaaaaaaa!', 'pattern'],
  ['abababababab!', 'pattern'],
  ['abcdefghijkl!', 'pattern'],
  ['azertyuiop12!', 'pattern'],
];

describe('passwordPolicyError', () => {
  it('refuses short, symbol-less, control, common and trivial passwords, each with its reason', async () => {
    for (const [password, reason] of REFUSED) expect(await reasonOf(password), JSON.stringify(password)).toBe(reason);
  });

  it('refuses a password that contains the username, whatever its case', async () => {
    expect(await reasonOf('Zephyrine-Rocks-42!', 'zephyrine')).toBe('username');
    expect(await reasonOf('xx-ZEPHYRINE-42-yy!', 'zephyrine')).toBe('username');
    expect(await reasonOf('Zephyrine-Rocks-42!', 'someone_else')).toBe('ok');
  });

  it('accepts strong passwords, in English and in French', async () => {
    for (const password of [PASSWORD, 'Nouveau-mot-de-passe-42', 'Mon-propre-secret-7', 'Zq8!vR2#mK5@tL9$', 'tartine+Velo+orage+93']) {
      expect(await reasonOf(password), password).toBe('ok');
    }
  });

  it('with passwordMinScore 0 keeps the length, symbol and pattern rules but not the estimator', async () => {
    const off = { ...rules, passwordMinScore: 0 };
    expect(await passwordPolicyError('password123!', off)).toBeNull();
    expect((await passwordPolicyError('short!1', off))?.reason).toBe('short');
    expect((await passwordPolicyError('            ', off))?.reason).toBe('pattern');
  });

  it('stays fast on a long password: only its first characters are estimated', async () => {
    await reasonOf(PASSWORD); // the dictionaries load once, on first use
    const long = 'Zq8!vR2#mK5@tL9$aB3%'.repeat(50);
    const started = performance.now();
    expect(await reasonOf(long)).toBe('ok');
    // About 20–80 ms on a loaded machine; uncapped, this input costs seconds.
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('the admin reset codes are four groups of four, without look-alike characters', () => {
    for (let i = 0; i < 30; i++) expect(oneTimeCode()).toMatch(/^[a-hjkmnp-z2-9]{4}(-[a-hjkmnp-z2-9]{4}){3}$/);
  });

  it('--password-min-score takes 0 to 4 or off', () => {
    const score = (...args: string[]) => {
      const cmd = parseCommandLine(args, false);
      return cmd.kind === 'serve' ? cmd.config.passwordMinScore : cmd.kind;
    };
    expect(score()).toBe(3);
    expect(score('--password-min-score', '4')).toBe(4);
    expect(score('--password-min-score', 'off')).toBe(0);
    expect(score('--password-min-score', '5')).toBe('error');
    expect(score('--password-min-score', 'high')).toBe('error');
  });
});
