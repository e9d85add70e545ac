/**
 * "My devices" in the settings (issue 13 §2): every device of mine holds my one identity; each is
 * listed with its name and when it was last used, and another one can be revoked (its sessions end;
 * it can log in again with the password, so a lost device calls for a password change too).
 */
import { useCallback, useEffect, useId, useState } from 'react';
import type { DeviceInfo, Failure } from '../../../../shared/protocol/index.js';
import { toast } from '../components/Toasts.js';
import { formatDateTime } from '../i18n/errors.js';
import { useI18n } from '../i18n/index.js';
import type { Session } from '../state/session.js';

export function DevicesSection({ session }: { session: Session }) {
  const { t, err, lang } = useI18n();
  const titleId = useId();
  const [devices, setDevices] = useState<DeviceInfo[] | null>(null);
  const [error, setError] = useState<Failure | null>(null);
  /** The device whose revocation waits for a second click. */
  const [confirming, setConfirming] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const engine = session.dm.engine;
  const ready = engine?.state === 'ready';

  const load = useCallback(async () => {
    if (!engine || engine.state !== 'ready') return;
    const r = await engine.listDevices();
    if (r.ok) {
      setDevices(r.value);
      setError(null);
    } else setError(r.error);
  }, [engine]);

  useEffect(() => {
    void load();
  }, [load, ready]);

  async function revoke(d: DeviceInfo) {
    if (!engine || busy) return;
    setBusy(true);
    const r = await engine.revokeDevice(d.id);
    setBusy(false);
    setConfirming(null);
    if (r.ok) toast('success', t('devices.revoked', { name: d.name }));
    else toast('error', err(r.error));
    await load();
  }

  return (
    <section className="settings-group settings-group--stack" aria-labelledby={titleId} data-testid="devices">
      <span className="settings-label" id={titleId}>
        {t('devices.title')}
      </span>
      <p className="muted">{t('devices.explain')}</p>
      {!ready ? (
        <p className="muted">{t('devices.locked')}</p>
      ) : error ? (
        <p className="alert alert--error">{err(error)}</p>
      ) : devices === null ? (
        <p className="muted">{t('devices.loading')}</p>
      ) : (
        <ul className="device-list">
          {devices.map((d) => (
            <li key={d.id} className="device-row" data-testid="device-row">
              <div className="device-main">
                <span className="device-name">{d.name}</span>
                {d.current && <span className="badge">{t('devices.thisOne')}</span>}
                {!d.current && d.online && <span className="badge badge--ok">{t('devices.online')}</span>}
                <span className="muted small">{t('devices.lastUsed', { when: formatDateTime(lang, d.lastSeen) })}</span>
              </div>
              {!d.current &&
                (confirming === d.id ? (
                  <div className="button-row">
                    <button type="button" className="btn btn--danger-soft" disabled={busy} onClick={() => void revoke(d)}>
                      {t('devices.confirmRevoke')}
                    </button>
                    <button type="button" className="btn btn--ghost" onClick={() => setConfirming(null)}>
                      {t('common.cancel')}
                    </button>
                  </div>
                ) : (
                  <button type="button" className="btn btn--ghost" onClick={() => setConfirming(d.id)}>
                    {t('devices.revoke')}
                  </button>
                ))}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
