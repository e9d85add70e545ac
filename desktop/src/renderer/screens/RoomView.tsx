/** A room I am a member of: its messages, its members, and the composer. */
import { useCallback, useEffect, useState } from 'react';
import { Avatar } from '../components/Avatar.js';
import { Composer } from '../components/Composer.js';
import { AlertIcon, CheckIcon, ClockIcon, HashIcon, UsersIcon } from '../components/Icons.js';
import { MessageList } from '../components/MessageList.js';
import { UserText } from '../components/UserText.js';
import { useI18n } from '../i18n/index.js';
import type { Session } from '../state/session.js';
import type { TimelineItem } from '../state/timeline.js';

interface Member {
  username: string;
  online: boolean;
  admin: boolean;
}

export function RoomView({ session, room }: { session: Session; room: string }) {
  const { t, err } = useI18n();
  const client = session.client;
  const state = session.room(room);
  const items = session.timeline(room);
  const [showMembers, setShowMembers] = useState(false);
  const [members, setMembers] = useState<Member[] | null>(null);

  const loadOlder = useCallback(() => void session.loadOlder(room), [session, room]);

  useEffect(() => {
    if (!showMembers) return;
    let live = true;
    void client.members(room).then((r) => {
      if (live && r.ok) setMembers(r.value);
    });
    return () => {
      live = false;
    };
  }, [showMembers, client, room, client.friends]);

  const renderStatus = (item: TimelineItem) => {
    if (item.author !== session.me) return null;
    if (item.status === 'sending')
      return (
        <span className="msg-status msg-status--sending" data-testid="status-sending">
          <ClockIcon size={13} /> {t('room.sending')}
        </span>
      );
    if (item.status === 'failed')
      return (
        <span className="msg-status msg-status--failed" role="alert">
          <AlertIcon size={13} /> {t('room.failed')}
          {item.error ? ` : ${err(item.error)}` : ''}
          <button type="button" className="link" onClick={() => client.retry(item.clientId)}>
            {t('common.retry')}
          </button>
        </span>
      );
    return (
      <span className="msg-status msg-status--sent" title={t('room.sent')}>
        <CheckIcon size={13} />
        <span className="sr-only">{t('room.sent')}</span>
      </span>
    );
  };

  if (!state) return null;
  const offline = client.status !== 'ready';

  return (
    <section className="view room-view" aria-label={`#${room}`}>
      <header className="view-head">
        <HashIcon className="view-head-icon" />
        <h1 className="view-title">
          <UserText text={room} />
        </h1>
        <span className="view-sub">{t('room.members', { n: state.info.members })}</span>
        <div className="view-actions">
          <button
            type="button"
            className={`icon-btn ${showMembers ? 'is-active' : ''}`}
            aria-pressed={showMembers}
            aria-label={showMembers ? t('room.hideMembers') : t('room.showMembers')}
            title={showMembers ? t('room.hideMembers') : t('room.showMembers')}
            onClick={() => setShowMembers((s) => !s)}
          >
            <UsersIcon />
          </button>
        </div>
      </header>
      <div className="view-body">
        <div className="view-column">
          <MessageList
            items={items}
            me={session.me}
            label={t('room.messagesLabel', { room })}
            hasOlder={state.hasOlder}
            loadingOlder={session.isLoadingOlder(room)}
            onLoadOlder={loadOlder}
            header={
              <>
                <span className="start-icon" aria-hidden="true">
                  <HashIcon size={26} />
                </span>
                <h2>{t('room.start', { room })}</h2>
              </>
            }
            empty={t('room.empty')}
            renderStatus={renderStatus}
          />
          <Composer
            key={room}
            placeholder={t('room.placeholder', { room })}
            initial={session.draft(room)}
            onDraft={(text) => session.setDraft(room, text)}
            onSend={(text) => {
              client.post(room, text);
            }}
            note={offline ? t('room.offlineQueued') : null}
          />
        </div>
        {showMembers && (
          <aside className="members" aria-label={t('room.membersTitle')}>
            <h2 className="members-title">{t('room.membersTitle')}</h2>
            {!members ? (
              <p className="muted">{t('common.loading')}</p>
            ) : (
              <ul>
                {[...members]
                  .sort((a, b) => Number(b.online) - Number(a.online) || a.username.localeCompare(b.username))
                  .map((m) => (
                    <li key={m.username} className="member">
                      <Avatar name={m.username} size="sm" online={m.online} />
                      <span className="member-name">{m.username}</span>
                      {m.admin && <span className="pill pill--admin">{t('admin.status.admin')}</span>}
                    </li>
                  ))}
              </ul>
            )}
          </aside>
        )}
      </div>
    </section>
  );
}
