/** A room I cannot enter: why, and one button to ask (or join, when it is open). */
import { useState } from 'react';
import { ClockIcon, LockIcon } from '../components/Icons.js';
import { UserText } from '../components/UserText.js';
import { useI18n } from '../i18n/index.js';
import type { Session } from '../state/session.js';
import { askForRoom } from './ask-for-room.js';

export function LockedRoom({ session, room }: { session: Session; room: string }) {
  const { t, err } = useI18n();
  const [busy, setBusy] = useState(false);
  const state = session.room(room);
  if (!state) return null;
  const { policy, access } = state.info;
  const pending = access === 'pending';

  return (
    <section className="view locked-view" aria-label={`#${room}`}>
      <header className="view-head">
        <LockIcon className="view-head-icon" />
        <h1 className="view-title">
          <UserText text={room} />
        </h1>
      </header>
      <div className="locked-card" data-testid="locked-card">
        <span className={`locked-icon ${pending ? 'locked-icon--pending' : ''}`} aria-hidden="true">
          {pending ? <ClockIcon size={30} /> : <LockIcon size={30} />}
        </span>
        <h2>{pending ? t('locked.pendingTitle') : t('locked.title', { room })}</h2>
        <p className="muted">
          {pending ? t('locked.pending') : policy === 'open' ? t('locked.open') : policy === 'closed' ? t('locked.closed') : t('locked.approval')}
        </p>
        {!pending && policy !== 'closed' && (
          <button
            type="button"
            className="btn btn--primary"
            disabled={busy}
            onClick={async () => {
              setBusy(true);
              await askForRoom(session, room, t, err);
              setBusy(false);
            }}
          >
            {policy === 'open' ? t('locked.join') : t('locked.request')}
          </button>
        )}
        {pending && <span className="pill pill--pending pill--lg">{t('sidebar.pending')}</span>}
      </div>
    </section>
  );
}
