/**
 * Log in, create an account, or choose a new password with an admin's reset code; each error in
 * words next to the field it is about.
 */
import { useId, useState, type FormEvent } from 'react';
import type { ChandlerClient } from '../../../../shared/client/index.js';
import type { Failure } from '../../../../shared/protocol/index.js';
import { LIMITS, USERNAME_PATTERN } from '../../../../shared/protocol/index.js';
import { EyeIcon, EyeOffIcon, AlertIcon, CheckIcon, Logo } from '../components/Icons.js';
import { localWeakness, PasswordRules } from '../components/PasswordRules.js';
import { useI18n, type MessageKey } from '../i18n/index.js';
import { setPrefs } from '../state/prefs.js';

type Mode = 'login' | 'register' | 'reset';
type Problem = { error: Failure } | { key: MessageKey };
type Problems = { username?: Problem; code?: Problem; password?: Problem; form?: Problem };

// WRONG_CREDENTIALS (a wrong name or password: the authority does not say which) is about the
// form, not one field.
const USERNAME_CODES = new Set(['INVALID_USERNAME', 'USERNAME_TAKEN', 'USERNAME_LOOKALIKE']);
const PASSWORD_CODES = new Set(['WEAK_PASSWORD']);

const FORM_TITLE: Record<Mode, MessageKey> = { login: 'auth.loginTitle', register: 'auth.registerTitle', reset: 'auth.resetTitle' };
const SUBMIT: Record<Mode, MessageKey> = { login: 'auth.submitLogin', register: 'auth.submitRegister', reset: 'auth.submitReset' };

export function validUsernameShape(name: string): boolean {
  return name.length >= LIMITS.usernameMin && name.length <= LIMITS.usernameMax && USERNAME_PATTERN.test(name);
}

export function AuthScreen({
  client,
  notice,
  info,
  serverLabel,
  onAuthenticated,
}: {
  client: ChandlerClient;
  notice: Failure | null;
  /** A piece of news that is not an error (the account was deleted). */
  info: MessageKey | null;
  serverLabel: string | null;
  onAuthenticated: (password: string) => void;
}) {
  const { t, err, lang } = useI18n();
  const [mode, setMode] = useState<Mode>('login');
  const [username, setUsername] = useState('');
  const [code, setCode] = useState('');
  const [password, setPassword] = useState('');
  const [show, setShow] = useState(false);
  const [busy, setBusy] = useState(false);
  const [problems, setProblems] = useState<Problems>(notice ? { form: { error: notice } } : {});
  const [news, setNews] = useState(info);
  const ids = {
    user: useId(),
    pass: useId(),
    code: useId(),
    userErr: useId(),
    passErr: useId(),
    codeErr: useId(),
    rules: useId(),
    hint: useId(),
    codeHint: useId(),
  };
  // Register and reset both choose a password: the rules are shown, and the cheap ones checked here.
  const newPassword = mode !== 'login';

  const say = (p: Problem | undefined) => (p ? ('key' in p ? t(p.key) : err(p.error)) : null);

  function switchMode(next: Mode) {
    // The password typed to log in is not a new one: the reset form starts with an empty field.
    if (next === 'reset' || mode === 'reset') setPassword('');
    setMode(next);
    setProblems({});
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (busy) return;
    setNews(null);
    const name = username.trim();
    const local: Problems = {};
    if (!name) local.username = { key: 'auth.required' };
    else if (mode === 'register' && !validUsernameShape(name)) local.username = { error: { code: 'INVALID_USERNAME', message: '' } };
    const resetCode = code.trim();
    if (mode === 'reset' && !resetCode) local.code = { key: 'auth.required' };
    if (!password) local.password = { key: 'auth.required' };
    else if (newPassword) {
      const reason = localWeakness(password);
      if (reason) local.password = { error: { code: 'WEAK_PASSWORD', message: '', reason } };
    }
    if (local.username || local.code || local.password) {
      setProblems(local);
      return;
    }
    setBusy(true);
    setProblems({});
    const r =
      mode === 'login'
        ? await client.login(name, password)
        : mode === 'register'
          ? await client.register(name, password)
          : await client.resetPassword(name, resetCode, password);
    setBusy(false);
    if (r.ok) {
      onAuthenticated(password);
      return;
    }
    const failed = r.error.code;
    // A reset's WRONG_CREDENTIALS is about the code (wrong, used or expired) or the name, not a password.
    if (mode === 'reset' && failed === 'WRONG_CREDENTIALS') setProblems({ form: { key: 'auth.wrongResetCode' } });
    else if (USERNAME_CODES.has(failed)) setProblems({ username: { error: r.error } });
    else if (PASSWORD_CODES.has(failed)) setProblems({ password: { error: r.error } });
    else setProblems({ form: { error: r.error } });
  }

  const userProblem = say(problems.username);
  const codeProblem = say(problems.code);
  const passProblem = say(problems.password);
  const formProblem = say(problems.form);

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

        <div className="segmented" role="tablist" aria-label={t('app.name')}>
          <button
            type="button"
            role="tab"
            aria-selected={mode === 'login'}
            className={mode === 'login' ? 'segmented-item is-active' : 'segmented-item'}
            onClick={() => switchMode('login')}
          >
            {t('auth.loginTab')}
          </button>
          <button
            type="button"
            role="tab"
            aria-selected={mode === 'register'}
            className={mode === 'register' ? 'segmented-item is-active' : 'segmented-item'}
            onClick={() => switchMode('register')}
          >
            {t('auth.registerTab')}
          </button>
        </div>

        <form className="form" onSubmit={submit} noValidate aria-label={t(FORM_TITLE[mode])}>
          {mode === 'reset' && (
            <div className="auth-intro">
              <h2 className="auth-title">{t('auth.resetTitle')}</h2>
              <p className="muted">{t('auth.resetExplain')}</p>
            </div>
          )}
          {news && (
            <div className="alert alert--info" role="status" data-testid="form-notice">
              <CheckIcon />
              <span>{t(news)}</span>
            </div>
          )}
          {formProblem && (
            <div className="alert alert--error" role="alert" data-testid="form-error">
              <AlertIcon />
              <span>{formProblem}</span>
            </div>
          )}

          <div className="field">
            <label htmlFor={ids.user}>{t('auth.username')}</label>
            <input
              id={ids.user}
              name="username"
              autoComplete="username"
              autoCapitalize="none"
              spellCheck={false}
              maxLength={LIMITS.usernameMax * 2}
              value={username}
              onChange={(e) => setUsername(e.target.value)}
              aria-invalid={userProblem ? true : undefined}
              aria-describedby={[userProblem ? ids.userErr : '', mode === 'register' ? ids.hint : ''].filter(Boolean).join(' ') || undefined}
              autoFocus
            />
            {mode === 'register' && !userProblem && (
              <p className="field-hint" id={ids.hint}>
                {t('auth.usernameHint')}
              </p>
            )}
            {userProblem && (
              <p className="field-error" id={ids.userErr} data-testid="username-error">
                {userProblem}
              </p>
            )}
          </div>

          {mode === 'reset' && (
            <div className="field">
              <label htmlFor={ids.code}>{t('auth.resetCode')}</label>
              <input
                id={ids.code}
                name="reset-code"
                autoComplete="one-time-code"
                autoCapitalize="none"
                spellCheck={false}
                maxLength={LIMITS.maxResetCodeChars}
                value={code}
                onChange={(e) => setCode(e.target.value)}
                aria-invalid={codeProblem ? true : undefined}
                aria-describedby={codeProblem ? ids.codeErr : ids.codeHint}
              />
              {codeProblem ? (
                <p className="field-error" id={ids.codeErr} data-testid="code-error">
                  {codeProblem}
                </p>
              ) : (
                <p className="field-hint" id={ids.codeHint}>
                  {t('auth.resetCodeHint')}
                </p>
              )}
            </div>
          )}

          <div className="field">
            <label htmlFor={ids.pass}>{mode === 'reset' ? t('pw.new') : t('auth.password')}</label>
            <div className="input-with-button">
              <input
                id={ids.pass}
                name="password"
                type={show ? 'text' : 'password'}
                autoComplete={newPassword ? 'new-password' : 'current-password'}
                maxLength={LIMITS.passwordMax}
                value={password}
                onChange={(e) => setPassword(e.target.value)}
                aria-invalid={passProblem ? true : undefined}
                aria-describedby={[passProblem ? ids.passErr : '', newPassword ? ids.rules : ''].filter(Boolean).join(' ') || undefined}
              />
              <button
                type="button"
                className="icon-btn"
                aria-label={show ? t('auth.hidePassword') : t('auth.showPassword')}
                aria-pressed={show}
                onClick={() => setShow((s) => !s)}
              >
                {show ? <EyeOffIcon /> : <EyeIcon />}
              </button>
            </div>
            {passProblem && (
              <p className="field-error" id={ids.passErr} data-testid="password-error">
                {passProblem}
              </p>
            )}
            {newPassword && <PasswordRules password={password} id={ids.rules} />}
          </div>

          <button type="submit" className="btn btn--primary btn--block" disabled={busy}>
            {busy ? t('auth.working') : t(SUBMIT[mode])}
          </button>
          {mode === 'login' && (
            <button type="button" className="link auth-alt" onClick={() => switchMode('reset')}>
              {t('auth.haveResetCode')}
            </button>
          )}
        </form>

        <footer className="auth-foot">
          {serverLabel && <span className="muted">{t('auth.server', { host: serverLabel })}</span>}
          <span className="lang-switch">
            <button type="button" className={lang === 'fr' ? 'link is-active' : 'link'} aria-pressed={lang === 'fr'} onClick={() => setPrefs({ lang: 'fr' })}>
              Français
            </button>
            <span aria-hidden="true">·</span>
            <button type="button" className={lang === 'en' ? 'link is-active' : 'link'} aria-pressed={lang === 'en'} onClick={() => setPrefs({ lang: 'en' })}>
              English
            </button>
          </span>
        </footer>
      </div>
    </div>
  );
}
