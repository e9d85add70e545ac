/** Language, theme, notifications, password, server (desktop), my devices, my data (export, delete), log out. */
import { useEffect, useId, useState } from 'react';
import type { ServerInfo } from '../../ipc/contract.js';
import { Dialog } from '../components/Dialog.js';
import { LogoutIcon } from '../components/Icons.js';
import { toast } from '../components/Toasts.js';
import { useI18n } from '../i18n/index.js';
import { askNotificationAccess, desktop, notificationAccess, type NotificationAccess } from '../platform.js';
import { setPrefs, usePrefs, type Theme } from '../state/prefs.js';
import type { Session } from '../state/session.js';
import { ChangePasswordForm } from './ChangePassword.js';
import { DevicesSection } from './DevicesSection.js';
import { DeleteAccountDialog, MyDataSection } from './MyData.js';

export function SettingsDialog({
  session,
  onClose,
  onLogout,
  onAccountDeleted,
}: {
  session: Session;
  onClose: () => void;
  /** `everywhere`: end every session of the account, on every device. */
  onLogout: (everywhere: boolean) => void;
  onAccountDeleted: () => void;
}) {
  const { t } = useI18n();
  const prefs = usePrefs();
  const [access, setAccess] = useState<NotificationAccess>(notificationAccess());
  const [changing, setChanging] = useState(false);
  const [server, setServer] = useState<ServerInfo | null>(null);
  const [deleting, setDeleting] = useState(false);
  const langId = useId();

  useEffect(() => {
    void desktop?.getServer().then(setServer);
  }, []);

  const themes: Theme[] = ['system', 'light', 'dark'];

  // The confirmation is a sibling, not a child: a child dialog's Escape would reach this one's onCancel too.
  return (
    <>
      <Dialog title={t('settings.title')} onClose={onClose}>
        <div className="settings">
          <section className="settings-group">
            <label htmlFor={langId} className="settings-label">
              {t('settings.language')}
            </label>
            <select id={langId} value={prefs.lang} onChange={(e) => setPrefs({ lang: e.target.value === 'en' ? 'en' : 'fr' })}>
              <option value="fr">Français</option>
              <option value="en">English</option>
            </select>
          </section>

          <section className="settings-group" role="radiogroup" aria-label={t('settings.theme')}>
            <span className="settings-label">{t('settings.theme')}</span>
            <div className="segmented segmented--sm">
              {themes.map((th) => (
                <button
                  key={th}
                  type="button"
                  role="radio"
                  aria-checked={prefs.theme === th}
                  className={prefs.theme === th ? 'segmented-item is-active' : 'segmented-item'}
                  onClick={() => setPrefs({ theme: th })}
                >
                  {t(`settings.theme.${th}`)}
                </button>
              ))}
            </div>
          </section>

          <section className="settings-group settings-group--stack">
            <span className="settings-label">{t('settings.notifications')}</span>
            <p className="muted">{t('settings.notificationsExplain', { user: session.me })}</p>
            {access === 'granted' ? (
              <label className="check">
                <input type="checkbox" checked={prefs.notifications} onChange={(e) => setPrefs({ notifications: e.target.checked })} />
                {t('settings.notificationsEnabled')}
              </label>
            ) : access === 'denied' || access === 'unsupported' ? (
              <p className="muted">{t('settings.notificationsDenied')}</p>
            ) : (
              <div>
                <button type="button" className="btn btn--soft" onClick={() => void askNotificationAccess().then(setAccess)}>
                  {t('settings.notificationsOn')}
                </button>
              </div>
            )}
          </section>

          {server && (
            <section className="settings-group settings-group--stack">
              <span className="settings-label">{t('settings.server')}</span>
              <p className="mono">{server.url}</p>
              <p className="muted">
                {t('server.fingerprint')} : <span className="mono small">{server.fingerprint}</span>
              </p>
              {server.preset ? (
                <p className="muted">{t('server.preset')}</p>
              ) : (
                <div>
                  <button
                    type="button"
                    className="btn btn--ghost"
                    onClick={async () => {
                      await session.client.logout();
                      await desktop?.forgetServer();
                      location.reload();
                    }}
                  >
                    {t('server.change')}
                  </button>
                </div>
              )}
            </section>
          )}

          <section className="settings-group settings-group--stack">
            <span className="settings-label">{t('settings.account')}</span>
            <p className="muted">{t('settings.signedInAs', { user: session.me })}</p>
            {changing ? (
              <ChangePasswordForm
                client={session.client}
                onDone={(newPassword) => {
                  void session.dm.changePassword(newPassword);
                  setChanging(false);
                  toast('success', t('pw.changed'));
                }}
              />
            ) : (
              <div className="button-row">
                <button type="button" className="btn" onClick={() => setChanging(true)}>
                  {t('settings.changePassword')}
                </button>
                <button type="button" className="btn btn--danger-soft" onClick={() => onLogout(false)}>
                  <LogoutIcon size={16} /> {t('settings.logout')}
                </button>
                <button type="button" className="btn btn--ghost" data-testid="logout-everywhere" onClick={() => onLogout(true)}>
                  {t('settings.logoutEverywhere')}
                </button>
              </div>
            )}
          </section>
          <DevicesSection session={session} />
          <MyDataSection session={session} onDelete={() => setDeleting(true)} />
          <p className="muted small">{t('keys.help')}</p>
        </div>
      </Dialog>
      {deleting && <DeleteAccountDialog session={session} onClose={() => setDeleting(false)} onDeleted={onAccountDeleted} />}
    </>
  );
}
