/** The password rule, checked live while typing (the authority applies the same one). */
import { LIMITS } from '../../../../shared/protocol/index.js';
import { useI18n } from '../i18n/index.js';
import { CheckIcon, CircleIcon } from './Icons.js';

export function passwordChecks(password: string): { length: boolean; symbol: boolean } {
  return {
    length: [...password].length >= LIMITS.passwordMin,
    symbol: /[^\p{L}\p{N}]/u.test(password),
  };
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
    </div>
  );
}
