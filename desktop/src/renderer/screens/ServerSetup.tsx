/** Desktop only: the first start asks which authority to use; main pins its certificate (TOFU). */
import { useId, useState, type FormEvent } from 'react';
import type { ChooseServerResult, DesktopApi } from '../../ipc/contract.js';
import { AlertIcon, Logo } from '../components/Icons.js';
import { useI18n } from '../i18n/index.js';

export function ServerSetup({ desktop }: { desktop: DesktopApi }) {
  const { t, lang } = useI18n();
  const [address, setAddress] = useState('');
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<Exclude<ChooseServerResult, { ok: true }>['reason'] | null>(null);
  const id = useId();

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!address.trim()) return;
    setBusy(true);
    setFailure(null);
    const r = await desktop.chooseServer({ address: address.trim(), lang });
    setBusy(false);
    if (r.ok) location.reload(); // the window's CSP now allows this server
    else setFailure(r.reason);
  }

  return (
    <div className="auth">
      <div className="auth-card">
        <div className="auth-brand">
          <Logo size={44} />
          <div>
            <h1 className="auth-name">{t('app.name')}</h1>
            <p className="auth-tagline">{t('app.tagline')}</p>
          </div>
        </div>
        <h2 className="auth-title">{t('server.title')}</h2>
        <p className="muted">{t('server.explain')}</p>
        <form className="form" onSubmit={submit} noValidate>
          <div className="field">
            <label htmlFor={id}>{t('server.address')}</label>
            <input
              id={id}
              value={address}
              placeholder="chat.entreprise.lan:7443"
              spellCheck={false}
              autoCapitalize="none"
              onChange={(e) => setAddress(e.target.value)}
              aria-invalid={failure ? true : undefined}
              autoFocus
            />
            {failure && (
              <p className="field-error" role="alert">
                <AlertIcon size={14} /> {t(`server.${failure}`)}
              </p>
            )}
          </div>
          <button type="submit" className="btn btn--primary btn--block" disabled={busy || !address.trim()}>
            {busy ? t('auth.working') : t('server.submit')}
          </button>
        </form>
      </div>
    </div>
  );
}
