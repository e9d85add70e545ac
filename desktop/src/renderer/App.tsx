/**
 * The app's phases: find the server (desktop), resume a saved session or log in, change a
 * one-time password, then the main shell. A session that the authority ends (ban, kick, logout
 * elsewhere) brings back the login screen with the reason.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { ChandlerClient, closeError, isTransient, type ClientError } from '../../../shared/client/index.js';
import { ToastHost, clearToasts } from './components/Toasts.js';
import { I18nProvider, useI18n } from './i18n/index.js';
import { browserSocket, CLIENT_VERSION, desktop, pageServerUrl, tokenVault } from './platform.js';
import { AuthScreen } from './screens/AuthScreen.js';
import { ChangePasswordScreen } from './screens/ChangePassword.js';
import { ServerSetup } from './screens/ServerSetup.js';
import { Shell } from './screens/Shell.js';
import { applyPrefs, usePrefs } from './state/prefs.js';
import { Session } from './state/session.js';
import { Logo } from './components/Icons.js';

type Phase =
  | { kind: 'boot' }
  | { kind: 'server' }
  | { kind: 'auth'; client: ChandlerClient; notice: ClientError | null }
  | { kind: 'password'; client: ChandlerClient }
  | { kind: 'app'; session: Session };

function newClient(url: string): ChandlerClient {
  return new ChandlerClient({ url, socketFactory: browserSocket, clientVersion: CLIENT_VERSION });
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

export function App() {
  const prefs = usePrefs();
  useEffect(() => applyPrefs(prefs), [prefs]);
  return (
    <I18nProvider lang={prefs.lang}>
      <Root />
      <ToastHost />
    </I18nProvider>
  );
}

function Root() {
  const { t } = useI18n();
  const [phase, setPhase] = useState<Phase>({ kind: 'boot' });
  const url = useRef<string | null>(null);

  /** A session is live: watch for its end, then show the shell (or the password change). */
  const enter = useCallback((client: ChandlerClient) => {
    if (client.session) void tokenVault.save(client.session.token);
    client.on('closed', (info) => {
      if (info.code === 1000 && !info.error) return; // we closed it (logout)
      const error = info.error ?? closeError(info.code, info.reason);
      if (!isTransient(error.code)) void tokenVault.clear();
      clearToasts();
      setPhase((p) => {
        if (p.kind === 'app') p.session.destroy();
        return { kind: 'auth', client: newClient(url.current!), notice: error };
      });
    });
    if (client.session?.user.mustChangePassword) setPhase({ kind: 'password', client });
    else setPhase({ kind: 'app', session: new Session(client) });
  }, []);

  useEffect(() => {
    let cancelled = false;
    void (async () => {
      const server = desktop ? await desktop.getServer() : null;
      const target = desktop ? (server?.url ?? null) : pageServerUrl();
      if (cancelled) return;
      if (!target) {
        setPhase({ kind: 'server' });
        return;
      }
      url.current = target;
      const client = newClient(target);
      const token = await tokenVault.load();
      if (token) {
        const r = await client.resume(token);
        if (cancelled) return;
        if (r.ok) {
          enter(client);
          return;
        }
        if (!isTransient(r.error.code)) await tokenVault.clear();
        setPhase({ kind: 'auth', client, notice: isTransient(r.error.code) ? r.error : null });
        return;
      }
      setPhase({ kind: 'auth', client, notice: null });
    })();
    return () => {
      cancelled = true;
    };
  }, [enter]);

  const logout = useCallback(async (session: Session) => {
    await session.client.logout();
    session.destroy();
    await tokenVault.clear();
    clearToasts();
    setPhase({ kind: 'auth', client: newClient(url.current!), notice: null });
  }, []);

  switch (phase.kind) {
    case 'boot':
      return (
        <div className="boot" role="status">
          <Logo size={48} />
          <p>{t('boot.connecting')}</p>
        </div>
      );
    case 'server':
      return desktop ? <ServerSetup desktop={desktop} /> : null;
    case 'auth':
      return (
        <AuthScreen
          key={phase.client.status === 'closed' ? 'closed' : 'auth'}
          client={phase.client}
          notice={phase.notice}
          serverLabel={desktop && url.current ? hostOf(url.current) : null}
          onAuthenticated={() => enter(phase.client)}
        />
      );
    case 'password':
      return <ChangePasswordScreen client={phase.client} onDone={() => setPhase({ kind: 'app', session: new Session(phase.client) })} />;
    case 'app':
      return <Shell session={phase.session} onLogout={() => void logout(phase.session)} />;
  }
}
