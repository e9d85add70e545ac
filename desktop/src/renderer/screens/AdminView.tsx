/**
 * Admins only: pending access requests (approve / deny; many at once from one account stand
 * out), a forced friendship, and the users with ban / kick — the same audited commands as the
 * authority's console.
 */
import { useEffect, useId, useState, type FormEvent } from 'react';
import type { Failure } from '../../../../shared/protocol/index.js';
import { Avatar } from '../components/Avatar.js';
import { AlertIcon, ShieldIcon } from '../components/Icons.js';
import { toast } from '../components/Toasts.js';
import { useI18n } from '../i18n/index.js';
import type { Session } from '../state/session.js';
import { RoomsPanel } from './AdminRooms.js';
import { UsersPanel } from './AdminUsers.js';

/** From this many pending requests, an account's requests are flagged (seed §4b). */
export const MANY_REQUESTS = 3;

type Tab = 'requests' | 'users' | 'rooms' | 'force';

export function AdminView({ session }: { session: Session }) {
  const { t } = useI18n();
  const [tab, setTab] = useState<Tab>('requests');
  const count = session.accessRequests.length;

  useEffect(() => {
    void session.refreshAccessRequests();
  }, [session]);

  const tabs: Array<{ id: Tab; label: string }> = [
    { id: 'requests', label: t('admin.requests') },
    { id: 'users', label: t('admin.users') },
    { id: 'rooms', label: t('admin.rooms') },
    { id: 'force', label: t('admin.forceFriend') },
  ];

  return (
    <section className="view admin-view" aria-labelledby="admin-title">
      <header className="view-head">
        <ShieldIcon className="view-head-icon" />
        <h1 className="view-title" id="admin-title">
          {t('admin.title')}
        </h1>
      </header>
      <div className="page">
        <div className="tabs" role="tablist" aria-label={t('admin.title')}>
          {tabs.map((x) => (
            <button
              key={x.id}
              type="button"
              role="tab"
              id={`admin-tab-${x.id}`}
              aria-selected={tab === x.id}
              aria-controls={`admin-panel-${x.id}`}
              className={tab === x.id ? 'tab is-active' : 'tab'}
              onClick={() => setTab(x.id)}
              onKeyDown={(e) => {
                if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
                const i = tabs.findIndex((y) => y.id === tab);
                const next = tabs[(i + (e.key === 'ArrowRight' ? 1 : tabs.length - 1)) % tabs.length]!;
                setTab(next.id);
                document.getElementById(`admin-tab-${next.id}`)?.focus();
              }}
            >
              {x.label}
              {x.id === 'requests' && count > 0 && <span className="badge badge--warn">{count}</span>}
            </button>
          ))}
        </div>
        <div role="tabpanel" id={`admin-panel-${tab}`} aria-labelledby={`admin-tab-${tab}`} className="tabpanel">
          {tab === 'requests' && <RequestsPanel session={session} />}
          {tab === 'users' && <UsersPanel session={session} />}
          {tab === 'rooms' && <RoomsPanel session={session} />}
          {tab === 'force' && <ForceFriendPanel session={session} />}
        </div>
      </div>
    </section>
  );
}

function RequestsPanel({ session }: { session: Session }) {
  const { t, err, time } = useI18n();
  const [busy, setBusy] = useState<string | null>(null);
  const requests = [...session.accessRequests].sort((a, b) => b.pendingFromUser - a.pendingFromUser || a.ts - b.ts);

  async function decide(username: string, room: string, approve: boolean) {
    setBusy(`${username}/${room}`);
    const r = await session.client.call(approve ? 'approveAccess' : 'denyAccess', { username, room });
    setBusy(null);
    if (r.ok) toast('success', approve ? t('admin.approved', { user: username, room }) : t('admin.denied', { user: username, room }));
    else toast('error', err(r.error));
    await session.refreshAccessRequests();
  }

  if (requests.length === 0) return <p className="empty-state">{t('admin.noRequests')}</p>;
  return (
    <ul className="rows card">
      {requests.map((r) => {
        const many = r.pendingFromUser >= MANY_REQUESTS;
        const id = `${r.username}/${r.room}`;
        return (
          <li key={id} className={`row ${many ? 'row--flag' : ''}`} data-testid={`request-${r.username}-${r.room}`}>
            <Avatar name={r.username} />
            <div className="row-text">
              <span className="row-title">
                {r.username} <span className="muted">{t('admin.requestFor', { room: r.room })}</span>
              </span>
              <span className="row-sub">
                {time(r.ts)}
                {many && (
                  <span className="flag">
                    <AlertIcon size={13} /> {t('admin.manyRequests', { n: r.pendingFromUser })}
                  </span>
                )}
              </span>
            </div>
            <div className="row-actions">
              <button type="button" className="btn btn--primary btn--sm" disabled={busy === id} onClick={() => void decide(r.username, r.room, true)}>
                {t('admin.approve')}
              </button>
              <button type="button" className="btn btn--sm" disabled={busy === id} onClick={() => void decide(r.username, r.room, false)}>
                {t('admin.deny')}
              </button>
            </div>
          </li>
        );
      })}
    </ul>
  );
}

function ForceFriendPanel({ session }: { session: Session }) {
  const { t, err } = useI18n();
  const [a, setA] = useState('');
  const [b, setB] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Failure | null>(null);
  const ids = { a: useId(), b: useId(), err: useId() };

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!a.trim() || !b.trim()) return;
    setBusy(true);
    setProblem(null);
    const r = await session.client.call('forceFriend', { a: a.trim(), b: b.trim() });
    setBusy(false);
    if (!r.ok) {
      setProblem(r.error);
      return;
    }
    toast('success', t('admin.forced', { a: a.trim(), b: b.trim() }));
    setA('');
    setB('');
  }

  return (
    <form className="card form" onSubmit={submit} noValidate>
      <p className="muted">{t('admin.forceExplain')}</p>
      <div className="field-row">
        <div className="field">
          <label htmlFor={ids.a}>{t('admin.userA')}</label>
          <input id={ids.a} value={a} autoCapitalize="none" spellCheck={false} onChange={(e) => setA(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={ids.b}>{t('admin.userB')}</label>
          <input id={ids.b} value={b} autoCapitalize="none" spellCheck={false} onChange={(e) => setB(e.target.value)} />
        </div>
      </div>
      {problem && (
        <p className="field-error" id={ids.err} role="alert">
          {err(problem)}
        </p>
      )}
      <div>
        <button type="submit" className="btn btn--primary" disabled={busy || !a.trim() || !b.trim()}>
          {t('admin.forceSubmit')}
        </button>
      </div>
    </form>
  );
}
