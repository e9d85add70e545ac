/**
 * The app's phases: find the server (desktop), resume a saved session or log in, change a
 * one-time password, then the main shell. A session that the authority ends (ban, kick, logout
 * elsewhere) brings back the login screen with the reason; a deleted account also leaves
 * nothing of itself on this device (DM history, device keys, saved session).
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { ChandlerClient, closeError, isTransient } from '../../../shared/client/index.js';
import type { Failure } from '../../../shared/protocol/index.js';
import { CLOSE_CODES, DEFAULT_OPAQUE_KSF } from '../../../shared/protocol/index.js';
import { ToastHost, clearToasts } from './components/Toasts.js';
import { I18nProvider, useI18n, type MessageKey } from './i18n/index.js';
import { browserSocket, CLIENT_VERSION, desktop, pageServerUrl, tokenVault } from './platform.js';
import { AuthScreen } from './screens/AuthScreen.js';
import { ChangePasswordScreen } from './screens/ChangePassword.js';
import { ServerSetup } from './screens/ServerSetup.js';
import { Shell } from './screens/Shell.js';
import { applyPrefs, usePrefs } from './state/prefs.js';
import { Session } from './state/session.js';
import type { PasswordCheck } from './state/dm.js';
import { Logo } from './components/Icons.js';

type Phase =
  | { kind: 'boot' }
  | { kind: 'server' }
  | { kind: 'auth'; client: ChandlerClient; notice: Failure | null; info?: MessageKey }
  | { kind: 'password'; client: ChandlerClient }
  | { kind: 'app'; session: Session };

/**
 * The desktop app refuses an authority that asks for less key stretching than the default (a copy
 * of its files would be cheaper to attack); a browser runs the code the authority serves, so a
 * floor there would hold against nobody.
 */
function newClient(url: string): ChandlerClient {
  return new ChandlerClient({ url, socketFactory: browserSocket, clientVersion: CLIENT_VERSION, minKsf: desktop ? DEFAULT_OPAQUE_KSF : undefined });
}

/** The DM engine is a separate chunk (WebRTC, sql.js): loaded once the session is up. */
function loadDmEngine(client: ChandlerClient) {
  return () => import('./dm/browser-engine.js').then((m) => m.createBrowserDmEngine(client));
}

/** Removes the user's sealed DM history and device keys (the DM chunk is loaded at most once). */
async function forgetDmDevice(username: string): Promise<void> {
  const { forgetDeviceUser } = await import('./dm/browser-engine.js');
  await forgetDeviceUser(username);
}

/** Checks a password with a short-lived second connection (see DmController.unlockWithPassword). */
function passwordCheck(url: string): PasswordCheck {
  return async (username, password) => {
    const probe = newClient(url);
    const r = await probe.login(username, password);
    // A copy: closing the probe wipes its own.
    const exportKey = probe.exportKey && Uint8Array.from(probe.exportKey);
    if (r.ok) await probe.logout();
    else probe.close();
    return r.ok ? { ok: true as const, value: { exportKey } } : r;
  };
}

function startSession(client: ChandlerClient, password: string | null): Session {
  const session = new Session(client);
  void session.dm.start(loadDmEngine(client), password);
  return session;
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
  const live = useRef<Session | null>(null);
  const gone = useRef(new WeakSet<ChandlerClient>());

  useEffect(() => {
    live.current = phase.kind === 'app' ? phase.session : null;
  }, [phase]);

  /**
   * The account was deleted (from the settings here, on another device, or by an admin on the
   * user's request): erase its DM history, close everything, remove its sealed files and
   * token from this device, and say so on the login screen. Runs once per client.
   */
  const accountGone = useCallback(async (client: ChandlerClient, username: string | null) => {
    if (gone.current.has(client)) return;
    gone.current.add(client);
    const session = live.current?.client === client ? live.current : null;
    if (session) {
      await session.dm.eraseHistory();
      await session.destroy();
    }
    client.close();
    if (username) {
      try {
        await forgetDmDevice(username);
      } catch {
        // The account is gone either way; what stays is sealed under its password.
      }
    }
    await tokenVault.clear();
    clearToasts();
    setPhase({ kind: 'auth', client: newClient(url.current!), notice: null, info: 'auth.accountDeleted' });
  }, []);

  /** A session is live: watch for its end, then show the shell (or the password change). */
  const enter = useCallback((client: ChandlerClient, password: string | null) => {
    if (client.session) void tokenVault.save(client.session.token);
    const username = client.username;
    client.on('closed', (info) => {
      if (info.code === 1000 && !info.error) return; // we closed it (logout)
      if (info.code === CLOSE_CODES.ACCOUNT_DELETED) {
        void accountGone(client, username);
        return;
      }
      const error = info.error ?? closeError(info.code, info.reason);
      if (!isTransient(error.code)) void tokenVault.clear();
      clearToasts();
      setPhase((p) => {
        if (p.kind === 'app') void p.session.destroy();
        return { kind: 'auth', client: newClient(url.current!), notice: error };
      });
    });
    if (client.session?.user.mustChangePassword) setPhase({ kind: 'password', client });
    else setPhase({ kind: 'app', session: startSession(client, password) });
  }, [accountGone]);

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
          enter(client, null);
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

  const logout = useCallback(async (session: Session, everywhere: boolean) => {
    await session.destroy();
    await session.client.logout({ everywhere });
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
          info={phase.info ?? null}
          serverLabel={desktop && url.current ? hostOf(url.current) : null}
          onAuthenticated={(password) => enter(phase.client, password)}
        />
      );
    case 'password':
      return (
        <ChangePasswordScreen client={phase.client} onDone={(password) => setPhase({ kind: 'app', session: startSession(phase.client, password) })} />
      );
    case 'app':
      return (
        <Shell
          session={phase.session}
          onLogout={(everywhere) => void logout(phase.session, everywhere)}
          onAccountDeleted={() => void accountGone(phase.session.client, phase.session.me)}
          checkPassword={passwordCheck(url.current!)}
        />
      );
  }
}
