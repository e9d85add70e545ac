/**
 * The password rules, the cheap ones checked live while typing; the authority applies them too, and
 * also refuses common passwords, simple patterns and the username (its dictionaries stay on the server).
 */
import { LIMITS, type PasswordWeakness } from '../../../../shared/protocol/index.js';
import { useI18n } from '../i18n/index.js';
import { CheckIcon, CircleIcon } from './Icons.js';

export function passwordChecks(password: string): { length: boolean; symbol: boolean } {
  return {
    length: [...password].length >= LIMITS.passwordMin,
    symbol: /[^\p{L}\p{N}]/u.test(password),
  };
}

/** The first rule a password breaks that this side can check, as the authority would name it. */
export function localWeakness(password: string): PasswordWeakness | null {
  const checks = passwordChecks(password);
  return !checks.length ? 'short' : !checks.symbol ? 'symbol' : null;
}

export function PasswordRules({ password, id }: { password: string; id: string }) {
  const { t } = useI18n();
  const checks = passwordChecks(password);
  const rules = [
    { ok: checks.length, text: t('auth.ruleLength', { n: LIMITS.passwordMin }) },
    { ok: checks.symbol, text: t('auth.ruleSymbol') },
  ];
  return (
    <div className="rules" id={id}>
      <p className="rules-title">{t('auth.rulesTitle')}</p>
      <ul>
        {rules.map((r) => (
          <li key={r.text} className={r.ok ? 'rule rule--ok' : 'rule'} data-ok={r.ok}>
            {r.ok ? <CheckIcon size={14} /> : <CircleIcon size={14} />}
            <span>{r.text}</span>
          </li>
        ))}
      </ul>
      <p className="rules-note">{t('auth.ruleCommon')}</p>
    </div>
  );
}
