/**
 * Direct messages with a friend. The peer-to-peer, end-to-end encrypted engine lives in
 * shared/client/dm/; until it is part of this build the view says so plainly instead of
 * pretending: no message typed here could be delivered.
 */
import { Avatar } from '../components/Avatar.js';
import { LockIcon } from '../components/Icons.js';
import { useI18n } from '../i18n/index.js';
import type { Session } from '../state/session.js';

export function DmView({ session, username }: { session: Session; username: string }) {
  const { t } = useI18n();
  const friend = session.client.friends.find((f) => f.username === username && f.state === 'friends');
  return (
    <section className="view dm-view" aria-label={t('dm.title', { user: username })}>
      <header className="view-head">
        <Avatar name={username} size="sm" online={friend?.online ?? false} />
        <h1 className="view-title">{username}</h1>
        <span className="view-sub">{friend?.online ? t('common.online') : t('common.offline')}</span>
      </header>
      <div className="locked-card" data-testid="dm-unavailable">
        <span className="locked-icon" aria-hidden="true">
          <LockIcon size={30} />
        </span>
        <h2>{friend ? t('dm.unavailableTitle') : t('dm.notFriends')}</h2>
        {friend && <p className="muted">{t('dm.unavailable', { user: username })}</p>}
      </div>
    </section>
  );
}
