/** Every account, with ban / unban / suspend (kick): the console's audited commands. */
import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import type { Failure } from '../../../../shared/protocol/index.js';
import { LIMITS, type AdminUserInfo } from '../../../../shared/protocol/index.js';
import { Avatar } from '../components/Avatar.js';
import { Dialog } from '../components/Dialog.js';
import { SearchIcon } from '../components/Icons.js';
import { toast } from '../components/Toasts.js';
import { untilPhrase } from '../i18n/errors.js';
import { useI18n } from '../i18n/index.js';
import type { Session } from '../state/session.js';

/** Suspension lengths offered, in seconds. */
export const KICK_CHOICES = [15 * 60, 3600, 24 * 3600, 7 * 24 * 3600] as const;

type Pending = { kind: 'ban' | 'kick'; user: AdminUserInfo } | null;

export function UsersPanel({ session }: { session: Session }) {
  const { t, err, lang } = useI18n();
  const [users, setUsers] = useState<AdminUserInfo[] | null>(null);
  const [problem, setProblem] = useState<Failure | null>(null);
  const [filter, setFilter] = useState('');
  const [pending, setPending] = useState<Pending>(null);
  const filterId = useId();
  const client = session.client;

  const load = useCallback(async () => {
    const r = await client.call('adminListUsers', {});
    if (r.ok) {
      setUsers(r.value.users);
      setProblem(null);
    } else setProblem(r.error);
  }, [client]);

  useEffect(() => {
    void load();
  }, [load]);

  async function unban(username: string) {
    const r = await client.call('adminUnban', { username });
    if (r.ok) toast('success', t('admin.unbanned', { user: username }));
    else toast('error', err(r.error));
    await load();
  }

  if (problem) return <p className="empty-state">{err(problem)}</p>;
  if (!users) return <p className="muted">{t('common.loading')}</p>;

  const q = filter.trim().toLocaleLowerCase();
  const shown = users
    .filter((u) => !q || u.username.toLocaleLowerCase().includes(q))
    .sort((a, b) => Number(b.online) - Number(a.online) || a.username.localeCompare(b.username));
  const now = Date.now();

  return (
    <>
      <div className="search">
        <SearchIcon className="search-icon" />
        <label htmlFor={filterId} className="sr-only">
          {t('admin.filter')}
        </label>
        <input id={filterId} value={filter} placeholder={t('admin.filter')} onChange={(e) => setFilter(e.target.value)} />
      </div>
      {shown.length === 0 ? (
        <p className="empty-state">{t('admin.noUsers')}</p>
      ) : (
        <ul className="rows card">
          {shown.map((u) => {
            const kicked = u.kickedUntil !== null && u.kickedUntil > now;
            const me = u.username === session.me;
            return (
              <li key={u.username} className="row" data-testid={`user-${u.username}`}>
                <Avatar name={u.username} online={u.online} />
                <div className="row-text">
                  <span className="row-title">{u.username}</span>
                  <span className="row-sub">
                    <span className={u.online ? 'is-online-text' : ''}>{u.online ? t('common.online') : t('common.offline')}</span>
                    {u.admin && <span className="pill pill--admin">{t('admin.status.admin')}</span>}
                    {u.banned && <span className="pill pill--danger">{t('admin.status.banned')}</span>}
                    {kicked && (
                      <span className="pill pill--pending">
                        {t('admin.status.kicked')} {untilPhrase(lang, u.kickedUntil!)}
                      </span>
                    )}
                  </span>
                </div>
                {!me && (
                  <div className="row-actions">
                    {u.banned ? (
                      <button type="button" className="btn btn--sm" onClick={() => void unban(u.username)}>
                        {t('admin.unban')}
                      </button>
                    ) : (
                      <>
                        <button type="button" className="btn btn--sm" onClick={() => setPending({ kind: 'kick', user: u })}>
                          {t('admin.kick')}
                        </button>
                        <button type="button" className="btn btn--sm btn--danger-soft" onClick={() => setPending({ kind: 'ban', user: u })}>
                          {t('admin.ban')}
                        </button>
                      </>
                    )}
                  </div>
                )}
              </li>
            );
          })}
        </ul>
      )}
      {pending?.kind === 'ban' && (
        <BanDialog
          session={session}
          username={pending.user.username}
          onClose={() => setPending(null)}
          onDone={() => {
            setPending(null);
            void load();
          }}
        />
      )}
      {pending?.kind === 'kick' && (
        <KickDialog
          session={session}
          username={pending.user.username}
          onClose={() => setPending(null)}
          onDone={() => {
            setPending(null);
            void load();
          }}
        />
      )}
    </>
  );
}

function BanDialog({ session, username, onClose, onDone }: { session: Session; username: string; onClose: () => void; onDone: () => void }) {
  const { t, err } = useI18n();
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Failure | null>(null);
  const id = useId();

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    const r = await session.client.call('adminBan', { username, reason: reason.trim() || undefined });
    setBusy(false);
    if (!r.ok) {
      setProblem(r.error);
      return;
    }
    toast('success', t('admin.banned', { user: username }));
    onDone();
  }

  return (
    <Dialog title={t('admin.banConfirmTitle', { user: username })} onClose={onClose}>
      <form className="form" onSubmit={submit}>
        <p className="muted">{t('admin.banExplain', { user: username })}</p>
        <div className="field">
          <label htmlFor={id}>{t('admin.reason')}</label>
          <input id={id} value={reason} maxLength={LIMITS.maxBanReasonChars} onChange={(e) => setReason(e.target.value)} autoFocus />
        </div>
        {problem && (
          <p className="field-error" role="alert">
            {err(problem)}
          </p>
        )}
        <div className="button-row button-row--end">
          <button type="button" className="btn btn--ghost" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button type="submit" className="btn btn--danger" disabled={busy}>
            {t('admin.ban')}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function KickDialog({ session, username, onClose, onDone }: { session: Session; username: string; onClose: () => void; onDone: () => void }) {
  const { t, err, lang } = useI18n();
  const [seconds, setSeconds] = useState<number>(KICK_CHOICES[1]);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Failure | null>(null);
  const id = useId();

  const label = (s: number) =>
    s < 3600 ? t('admin.minutes', { n: s / 60 }) : s < 24 * 3600 ? t('admin.hours', { n: s / 3600 }) : t('admin.days', { n: s / 86400 });

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    const r = await session.client.call('adminKick', { username, seconds });
    setBusy(false);
    if (!r.ok) {
      setProblem(r.error);
      return;
    }
    toast('success', t('admin.kicked', { user: username, until: untilPhrase(lang, Date.now() + seconds * 1000) }));
    onDone();
  }

  return (
    <Dialog title={t('admin.kickTitle', { user: username })} onClose={onClose}>
      <form className="form" onSubmit={submit}>
        <p className="muted">{t('admin.kickExplain', { user: username })}</p>
        <div className="field">
          <label htmlFor={id}>{t('admin.duration')}</label>
          <select id={id} value={seconds} onChange={(e) => setSeconds(Number(e.target.value))} autoFocus>
            {KICK_CHOICES.map((s) => (
              <option key={s} value={s}>
                {label(s)}
              </option>
            ))}
          </select>
        </div>
        {problem && (
          <p className="field-error" role="alert">
            {err(problem)}
          </p>
        )}
        <div className="button-row button-row--end">
          <button type="button" className="btn btn--ghost" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button type="submit" className="btn btn--primary" disabled={busy}>
            {t('admin.kick')}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
