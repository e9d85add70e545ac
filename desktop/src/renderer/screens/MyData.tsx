/**
 * "My data" in the settings (GDPR): export everything about me as a JSON download, and delete
 * my account after a plain-words warning and my password.
 */
import { useId, useRef, useState, type FormEvent } from 'react';
import type { Failure } from '../../../../shared/protocol/index.js';
import { LIMITS } from '../../../../shared/protocol/index.js';
import { Dialog } from '../components/Dialog.js';
import { AlertIcon, CheckIcon, DownloadIcon, MessageIcon, TrashIcon } from '../components/Icons.js';
import { toast, type ToastKind } from '../components/Toasts.js';
import { useI18n } from '../i18n/index.js';
import { exportMyData } from '../state/my-data.js';
import type { Session } from '../state/session.js';

export function MyDataSection({ session, onDelete }: { session: Session; onDelete: () => void }) {
  const { t, err } = useI18n();
  const [exporting, setExporting] = useState(false);
  /** Said here as well as in a toast: toasts sit under the modal settings until it closes. */
  const [result, setResult] = useState<{ kind: ToastKind; text: string } | null>(null);
  const host = useRef<HTMLElement>(null);
  const titleId = useId();

  async function exportNow() {
    if (exporting || !host.current) return;
    setExporting(true);
    setResult(null);
    let said: { kind: ToastKind; text: string };
    try {
      const r = await exportMyData(session, host.current, (why) => t(`mydata.fileDms.${why}`));
      if (!r.ok) said = { kind: 'error', text: t('mydata.exportFailed', { why: r.code === 'TOO_LARGE' ? t('mydata.tooLarge') : err({ code: r.code, message: '' }) }) };
      else if (r.dmsMissing) said = { kind: 'info', text: t(`mydata.exportedWithoutDms.${r.dmsMissing}`, { file: r.fileName }) };
      else said = { kind: 'success', text: t('mydata.exported', { file: r.fileName }) };
    } finally {
      setExporting(false);
    }
    setResult(said);
    toast(said.kind, said.text);
  }

  return (
    <section ref={host} className="settings-group settings-group--stack" aria-labelledby={titleId} data-testid="my-data">
      <span className="settings-label" id={titleId}>
        {t('mydata.title')}
      </span>
      <p className="muted">{t('mydata.explain')}</p>
      <div>
        <button type="button" className="btn" onClick={() => void exportNow()} disabled={exporting} aria-busy={exporting}>
          <DownloadIcon size={16} /> {exporting ? t('mydata.preparing') : t('mydata.export')}
        </button>
      </div>
      <div role="status" data-testid="export-status">
        {exporting && <span className="sr-only">{t('mydata.preparing')}</span>}
        {result && (
          <div className={`alert ${result.kind === 'error' ? 'alert--error' : 'alert--info'}`}>
            {result.kind === 'error' ? <AlertIcon /> : result.kind === 'success' ? <CheckIcon /> : <MessageIcon />}
            <span>{result.text}</span>
          </div>
        )}
      </div>
      <p className="muted">{t('mydata.deleteExplain')}</p>
      <div>
        <button type="button" className="btn btn--danger-soft" onClick={onDelete}>
          <TrashIcon size={16} /> {t('mydata.delete')}
        </button>
      </div>
    </section>
  );
}

type Problem = { field: 'password' | 'form'; error: Failure } | { field: 'password'; required: true };

/**
 * The confirmation: what goes and what stays, in plain words, then the password. On success
 * the authority ends the session; `onDeleted` takes the app back to the login screen.
 */
export function DeleteAccountDialog({ session, onClose, onDeleted }: { session: Session; onClose: () => void; onDeleted: () => void }) {
  const { t, err } = useI18n();
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const ids = { pass: useId(), err: useId(), policy: useId() };
  const input = useRef<HTMLInputElement>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (busy) return;
    if (!password) {
      setProblem({ field: 'password', required: true });
      input.current?.focus();
      return;
    }
    setBusy(true);
    setProblem(null);
    const r = await session.client.deleteAccount(password);
    if (r.ok) {
      onDeleted();
      return;
    }
    setBusy(false);
    const field = r.error.code === 'WRONG_PASSWORD' ? 'password' : 'form';
    setProblem({ field, error: r.error });
    if (field === 'password') input.current?.focus();
  }

  const say = (p: Problem) => ('required' in p ? t('auth.required') : err(p.error));

  return (
    <Dialog title={t('mydata.deleteTitle')} onClose={busy ? () => undefined : onClose}>
      <form className="form" onSubmit={submit} noValidate data-testid="delete-account">
        <p>{t('mydata.deleteIntro', { user: session.me })}</p>
        <ul className="policy" id={ids.policy}>
          <li>{t('mydata.policyAccount')}</li>
          <li>{t('mydata.policyRooms')}</li>
          <li>{t('mydata.policyDms')}</li>
        </ul>
        <p className="muted">{t('mydata.policyExport')}</p>
        {problem?.field === 'form' && (
          <div className="alert alert--error" role="alert">
            <AlertIcon />
            <span>{say(problem)}</span>
          </div>
        )}
        <div className="field">
          <label htmlFor={ids.pass}>{t('mydata.deletePassword')}</label>
          <input
            ref={input}
            id={ids.pass}
            type="password"
            autoComplete="current-password"
            maxLength={LIMITS.passwordMax}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            aria-invalid={problem?.field === 'password' || undefined}
            aria-describedby={problem?.field === 'password' ? `${ids.err} ${ids.policy}` : ids.policy}
          />
          {problem?.field === 'password' && (
            <p className="field-error" id={ids.err} role="alert" data-testid="delete-password-error">
              {say(problem)}
            </p>
          )}
        </div>
        <div className="button-row button-row--end">
          <button type="button" className="btn btn--ghost" onClick={onClose} disabled={busy}>
            {t('common.cancel')}
          </button>
          <button type="submit" className="btn btn--danger" disabled={busy}>
            {busy ? t('mydata.deleting') : t('mydata.deleteConfirm')}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
