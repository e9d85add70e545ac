/** Rooms with unread counts, the rooms I lack (with "Demander l'accès"), friends, admin, me. */
import { useState, type ReactNode } from 'react';
import type { RoomState } from '../../../../shared/client/index.js';
import { Avatar } from '../components/Avatar.js';
import { ClockIcon, HashIcon, LockIcon, Logo, SettingsIcon, ShieldIcon, UserPlusIcon } from '../components/Icons.js';
import { UserText } from '../components/UserText.js';
import { useI18n } from '../i18n/index.js';
import type { Session } from '../state/session.js';
import { askForRoom } from './ask-for-room.js';
import { viewKey, type View } from '../state/view.js';

export function Sidebar({
  session,
  view,
  onSelect,
  onOpenSettings,
}: {
  session: Session;
  view: View;
  onSelect: (v: View) => void;
  onOpenSettings: () => void;
}) {
  const { t, err } = useI18n();
  const client = session.client;
  const rooms = [...client.rooms.values()];
  const mine = rooms.filter((r) => r.info.access === 'member');
  const others = rooms.filter((r) => r.info.access !== 'member');
  const friends = client.friends.filter((f) => f.state === 'friends');
  const incoming = client.friends.filter((f) => f.state === 'incoming').length;
  const current = viewKey(view);
  const online = client.status === 'ready';

  return (
    <nav className="sidebar" aria-label={t('sidebar.navigation')}>
      <header className="sidebar-head">
        <Logo size={26} />
        <span className="sidebar-title">{t('app.name')}</span>
        <span
          className={`conn-dot ${online ? 'conn-dot--on' : 'conn-dot--off'}`}
          title={online ? t('status.online') : t('status.reconnecting')}
          aria-label={online ? t('status.online') : t('status.reconnecting')}
          role="img"
        />
      </header>

      <div className="sidebar-scroll">
        <Section label={t('sidebar.rooms')}>
          {mine.map((r) => (
            <RoomItem key={r.info.name} room={r} active={current === `room:${r.info.name}`} onSelect={onSelect} />
          ))}
        </Section>

        {others.length > 0 && (
          <Section label={t('sidebar.otherRooms')}>
            {others.map((r) => (
              <LockedItem
                key={r.info.name}
                room={r}
                active={current === `room:${r.info.name}`}
                onSelect={onSelect}
                onRequest={async () => {
                  if (await askForRoom(session, r.info.name, t, err)) onSelect({ kind: 'room', name: r.info.name });
                }}
              />
            ))}
          </Section>
        )}

        <Section
          label={t('sidebar.friends')}
          action={
            <button
              type="button"
              className={`icon-btn icon-btn--sm ${current === 'friends' ? 'is-active' : ''}`}
              aria-label={incoming ? `${t('sidebar.manageFriends')} (${incoming})` : t('sidebar.manageFriends')}
              title={t('sidebar.manageFriends')}
              onClick={() => onSelect({ kind: 'friends' })}
            >
              <UserPlusIcon size={16} />
              {incoming > 0 && <span className="dot-badge">{incoming}</span>}
            </button>
          }
        >
          {friends.length === 0 && (
            <li>
              <button type="button" className="nav-item nav-item--muted" onClick={() => onSelect({ kind: 'friends' })}>
                <UserPlusIcon size={16} />
                <span className="nav-label">{t('sidebar.addFriend')}</span>
              </button>
            </li>
          )}
          {friends.map((f) => ({ ...f, online: f.online && online })).map((f) => (
            <li key={f.username}>
              <button
                type="button"
                className={`nav-item ${current === `dm:${f.username}` ? 'is-active' : ''}`}
                aria-current={current === `dm:${f.username}` ? 'page' : undefined}
                onClick={() => onSelect({ kind: 'dm', username: f.username })}
                data-testid={`friend-${f.username}`}
                data-online={f.online}
              >
                <Avatar name={f.username} size="sm" online={f.online} />
                <span className="nav-label">{f.username}</span>
                <span className="sr-only">{f.online ? t('common.online') : t('common.offline')}</span>
                {session.dm.unreadOf(f.username) > 0 && (
                  <span className="badge" aria-label={t('sidebar.unread', { n: session.dm.unreadOf(f.username) })}>
                    {session.dm.unreadOf(f.username)}
                  </span>
                )}
              </button>
            </li>
          ))}
        </Section>
      </div>

      <footer className="sidebar-foot">
        {client.isAdmin && (
          <button
            type="button"
            className={`nav-item ${current === 'admin' ? 'is-active' : ''}`}
            aria-current={current === 'admin' ? 'page' : undefined}
            onClick={() => onSelect({ kind: 'admin' })}
            data-testid="nav-admin"
          >
            <ShieldIcon size={16} />
            <span className="nav-label">{t('sidebar.admin')}</span>
            {session.accessRequests.length > 0 && (
              <span className="badge badge--warn" aria-label={t('sidebar.requestsBadge', { n: session.accessRequests.length })}>
                {session.accessRequests.length}
              </span>
            )}
          </button>
        )}
        <div className="me">
          <Avatar name={session.me} size="md" online={online} />
          <div className="me-text">
            <span className="me-name">{session.me}</span>
            <span className="me-role">{client.isAdmin ? t('sidebar.admin.role') : t('sidebar.member.role')}</span>
          </div>
          <button type="button" className="icon-btn" aria-label={t('sidebar.settings')} title={t('sidebar.settings')} onClick={onOpenSettings}>
            <SettingsIcon />
          </button>
        </div>
      </footer>
    </nav>
  );
}

function Section({ label, action, children }: { label: string; action?: ReactNode; children: ReactNode }) {
  const [open, setOpen] = useState(true);
  return (
    <section className="nav-section">
      <div className="nav-section-head">
        <button type="button" className="nav-section-toggle" aria-expanded={open} onClick={() => setOpen((o) => !o)}>
          <span className={`chevron ${open ? '' : 'chevron--closed'}`} aria-hidden="true" />
          {label}
        </button>
        {action}
      </div>
      {open && <ul className="nav-list">{children}</ul>}
    </section>
  );
}

function RoomItem({ room, active, onSelect }: { room: RoomState; active: boolean; onSelect: (v: View) => void }) {
  const { t } = useI18n();
  const name = room.info.name;
  return (
    <li>
      <button
        type="button"
        className={`nav-item ${active ? 'is-active' : ''} ${room.unread ? 'has-unread' : ''}`}
        aria-current={active ? 'page' : undefined}
        onClick={() => onSelect({ kind: 'room', name })}
        data-testid={`room-${name}`}
      >
        <HashIcon size={16} />
        <span className="nav-label">
          <UserText text={name} />
        </span>
        {room.unread > 0 && (
          <span className="badge" aria-label={t('sidebar.unread', { n: room.unread })} data-testid={`unread-${name}`}>
            {room.unread > 99 ? '99+' : room.unread}
          </span>
        )}
      </button>
    </li>
  );
}

function LockedItem({
  room,
  active,
  onSelect,
  onRequest,
}: {
  room: RoomState;
  active: boolean;
  onSelect: (v: View) => void;
  onRequest: () => void;
}) {
  const { t } = useI18n();
  const name = room.info.name;
  const pending = room.info.access === 'pending';
  const closed = room.info.policy === 'closed';
  const open = room.info.policy === 'open';
  return (
    <li className={`locked-row ${active ? 'is-active' : ''}`} data-testid={`locked-${name}`} data-access={room.info.access}>
      <button
        type="button"
        className="nav-item nav-item--locked"
        aria-current={active ? 'page' : undefined}
        onClick={() => onSelect({ kind: 'room', name })}
      >
        {pending ? <ClockIcon size={16} /> : open ? <HashIcon size={16} /> : <LockIcon size={16} />}
        <span className="nav-label">
          <UserText text={name} />
        </span>
      </button>
      {pending ? (
        <span className="pill pill--pending">{t('sidebar.pending')}</span>
      ) : closed ? (
        <span className="pill">{t('sidebar.closed')}</span>
      ) : (
        <button
          type="button"
          className="btn btn--xs btn--soft"
          onClick={onRequest}
          aria-label={open ? t('sidebar.joinRoom', { room: name }) : t('sidebar.requestAccessFor', { room: name })}
        >
          {open ? t('sidebar.join') : t('sidebar.requestAccess')}
        </button>
      )}
    </li>
  );
}
