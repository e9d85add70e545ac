/** Shown after an admin reset the password (one-time password), and from the settings. */
import { useId, useState, type FormEvent } from 'react';
import type { ChandlerClient } from '../../../../shared/client/index.js';
import type { Failure } from '../../../../shared/protocol/index.js';
import { AlertIcon } from '../components/Icons.js';
import { localWeakness, PasswordRules } from '../components/PasswordRules.js';
import { useI18n } from '../i18n/index.js';

export function ChangePasswordForm({ client, onDone }: { client: ChandlerClient; onDone: (newPassword: string) => void }) {
  const { t, err } = useI18n();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<{ field: 'current' | 'next' | 'form'; error: Failure } | null>(null);
  const ids = { current: useId(), next: useId(), rules: useId(), err: useId() };

  async function submit(e: FormEvent) {
    e.preventDefault();
    const reason = localWeakness(next);
    if (reason) {
      setProblem({ field: 'next', error: { code: 'WEAK_PASSWORD', message: '', reason } });
      return;
    }
    setBusy(true);
    const r = await client.changePassword(current, next);
    setBusy(false);
    if (r.ok) {
      onDone(next);
      return;
    }
    const field = r.error.code === 'WRONG_PASSWORD' ? 'current' : r.error.code === 'WEAK_PASSWORD' ? 'next' : 'form';
    setProblem({ field, error: r.error });
  }

  return (
    <form className="form" onSubmit={submit} noValidate>
      {problem?.field === 'form' && (
        <div className="alert alert--error" role="alert">
          <AlertIcon />
          <span>{err(problem.error)}</span>
        </div>
      )}
      <div className="field">
        <label htmlFor={ids.current}>{t('pw.current')}</label>
        <input
          id={ids.current}
          type="password"
          autoComplete="current-password"
          value={current}
          onChange={(e) => setCurrent(e.target.value)}
          aria-invalid={problem?.field === 'current' || undefined}
          aria-describedby={problem?.field === 'current' ? ids.err : undefined}
        />
        {problem?.field === 'current' && (
          <p className="field-error" id={ids.err}>
            {err(problem.error)}
          </p>
        )}
      </div>
      <div className="field">
        <label htmlFor={ids.next}>{t('pw.new')}</label>
        <input
          id={ids.next}
          type="password"
          autoComplete="new-password"
          value={next}
          onChange={(e) => setNext(e.target.value)}
          aria-invalid={problem?.field === 'next' || undefined}
          aria-describedby={problem?.field === 'next' ? `${ids.err} ${ids.rules}` : ids.rules}
        />
        {problem?.field === 'next' && (
          <p className="field-error" id={ids.err}>
            {err(problem.error)}
          </p>
        )}
        <PasswordRules password={next} id={ids.rules} />
      </div>
      <button type="submit" className="btn btn--primary btn--block" disabled={busy || !current || !next}>
        {busy ? t('auth.working') : t('pw.submit')}
      </button>
    </form>
  );
}

export function ChangePasswordScreen({ client, onDone }: { client: ChandlerClient; onDone: (newPassword: string) => void }) {
  const { t } = useI18n();
  return (
    <div className="auth">
      <div className="auth-card">
        <h1 className="auth-title">{t('pw.title')}</h1>
        <p className="muted">{t('pw.explain')}</p>
        <ChangePasswordForm client={client} onDone={onDone} />
      </div>
    </div>
  );
}
