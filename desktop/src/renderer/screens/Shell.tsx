/**
 * The logged-in app: sidebar, the open view, the reconnect banner, dialogs and keyboard
 * shortcuts. Live events become toasts and desktop notifications here.
 */
import { useCallback, useEffect, useMemo, useState } from 'react';
import { RefreshIcon, WifiOffIcon } from '../components/Icons.js';
import { toast } from '../components/Toasts.js';
import { useI18n, type MessageKey } from '../i18n/index.js';
import { desktop, showNotification } from '../platform.js';
import type { PasswordCheck } from '../state/dm.js';
import { getPrefs } from '../state/prefs.js';
import { useSession, type Session } from '../state/session.js';
import { mentions } from '../state/timeline.js';
import { viewKey, type View } from '../state/view.js';
import { AdminView } from './AdminView.js';
import { DmView } from './DmView.js';
import { FriendsView } from './FriendsView.js';
import { LockedRoom } from './LockedRoom.js';
import { QuickSwitcher } from './QuickSwitcher.js';
import { RoomView } from './RoomView.js';
import { SettingsDialog } from './SettingsDialog.js';
import { Sidebar } from './Sidebar.js';

const DM_WARNINGS: Record<string, MessageKey> = {
  IDENTITY_REPLACED: 'dm.warn.identityReplaced',
  IDENTITY_ADOPTED: 'dm.warn.identityAdopted',
  HISTORY_UNREADABLE: 'dm.warn.historyUnreadable',
  HISTORY_SAVE_FAILED: 'dm.warn.historySaveFailed',
};

function parseTarget(target: string): View | null {
  if (target.startsWith('room:')) return { kind: 'room', name: target.slice(5) };
  if (target.startsWith('dm:')) return { kind: 'dm', username: target.slice(3) };
  return null;
}

export function Shell({
  session,
  onLogout,
  onAccountDeleted,
  checkPassword,
}: {
  session: Session;
  /** `everywhere`: end every session of the account, on every device. */
  onLogout: (everywhere: boolean) => void;
  onAccountDeleted: () => void;
  checkPassword: PasswordCheck;
}) {
  useSession(session);
  const { t } = useI18n();
  const client = session.client;
  const [view, setView] = useState<View>(() => {
    const first = [...client.rooms.values()].find((r) => r.info.access === 'member');
    return first ? { kind: 'room', name: first.info.name } : { kind: 'friends' };
  });
  const [dialog, setDialog] = useState<'settings' | 'switcher' | null>(null);

  useShellEvents(session, view, setView);

  // The room on screen is read while the window is visible.
  const activeRoom = view.kind === 'room' ? view.name : null;
  const activeUnread = activeRoom ? (client.rooms.get(activeRoom)?.unread ?? 0) : 0;
  useEffect(() => {
    if (!activeRoom || !activeUnread) return;
    if (document.visibilityState === 'visible') client.markRead(activeRoom);
  }, [activeRoom, activeUnread, client]);
  useEffect(() => {
    const onVisible = () => {
      if (document.visibilityState === 'visible' && activeRoom) client.markRead(activeRoom);
    };
    document.addEventListener('visibilitychange', onVisible);
    return () => document.removeEventListener('visibilitychange', onVisible);
  }, [activeRoom, client]);

  // Sidebar order, for Alt+↑/↓ (rebuilt each render: the session changes under it).
  const version = session.getVersion();
  const order = useMemo<View[]>(() => {
    void version;
    // Mine first, then the others: the sidebar's order.
    const all = [...client.rooms.values()];
    const rooms = [...all.filter((r) => r.info.access === 'member'), ...all.filter((r) => r.info.access !== 'member')].map(
      (r) => ({ kind: 'room', name: r.info.name }) as View,
    );
    const friends = client.friends.filter((f) => f.state === 'friends').map((f) => ({ kind: 'dm', username: f.username }) as View);
    return [...rooms, { kind: 'friends' }, ...friends, ...(client.isAdmin ? [{ kind: 'admin' } as View] : [])];
  }, [client, version]);

  const onKey = useCallback(
    (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'k') {
        e.preventDefault();
        setDialog('switcher');
        return;
      }
      if (e.altKey && (e.key === 'ArrowUp' || e.key === 'ArrowDown')) {
        e.preventDefault();
        const i = order.findIndex((v) => viewKey(v) === viewKey(view));
        const next = order[(i + (e.key === 'ArrowDown' ? 1 : -1) + order.length) % order.length];
        if (next) setView(next);
      }
    },
    [order, view],
  );
  useEffect(() => {
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onKey]);

  useEffect(() => {
    if (!desktop) return;
    return desktop.onNotificationClicked((target) => {
      const v = parseTarget(target);
      if (v) setView(v);
    });
  }, []);

  const reconnecting = client.status === 'reconnecting' || client.status === 'connecting';

  let main;
  if (view.kind === 'room') {
    const room = client.rooms.get(view.name);
    if (!room) main = <div className="empty-view">{t('common.loading')}</div>;
    else if (room.info.access === 'member') main = <RoomView key={view.name} session={session} room={view.name} />;
    else main = <LockedRoom key={view.name} session={session} room={view.name} />;
  } else if (view.kind === 'friends') {
    main = <FriendsView session={session} onOpenDm={(username) => setView({ kind: 'dm', username })} />;
  } else if (view.kind === 'dm') {
    main = <DmView key={view.username} session={session} username={view.username} checkPassword={checkPassword} />;
  } else {
    main = client.isAdmin ? <AdminView session={session} /> : null;
  }

  return (
    <div className="shell">
      <Sidebar session={session} view={view} onSelect={setView} onOpenSettings={() => setDialog('settings')} />
      <main className="main" aria-busy={reconnecting || undefined}>
        {reconnecting && (
          <div className="banner banner--warn" role="status" data-testid="reconnect-banner">
            <WifiOffIcon />
            <span>{t('status.reconnecting')}</span>
            <button type="button" className="btn btn--sm btn--ghost" onClick={() => void client.reconnect()}>
              <RefreshIcon size={14} /> {t('status.reconnectNow')}
            </button>
          </div>
        )}
        {main}
      </main>
      {dialog === 'settings' && <SettingsDialog session={session} onClose={() => setDialog(null)} onLogout={onLogout} onAccountDeleted={onAccountDeleted} />}
      {dialog === 'switcher' && (
        <QuickSwitcher
          session={session}
          onClose={() => setDialog(null)}
          onPick={(v) => {
            setView(v);
            setDialog(null);
          }}
        />
      )}
    </div>
  );
}

/** Toasts for decisions and friend events; notifications for mentions (and DMs, with the engine). */
function useShellEvents(session: Session, view: View, setView: (v: View) => void): void {
  const { t } = useI18n();
  const client = session.client;
  useEffect(() => {
    const offs = [
      client.on('event', (e) => {
        switch (e.ev) {
          case 'accessDecided':
            if (e.granted) {
              toast('success', t('toast.accessGranted', { room: e.room, by: e.by }), {
                label: t('toast.open'),
                run: () => setView({ kind: 'room', name: e.room }),
              });
            } else {
              toast('error', t('toast.accessDenied', { room: e.room }));
            }
            break;
          case 'friendRequested':
            toast('info', t('toast.friendRequested', { user: e.username }), {
              label: t('toast.see'),
              run: () => setView({ kind: 'friends' }),
            });
            break;
          case 'friendsChanged':
            if (e.state === 'friends') toast('success', t('toast.friendAccepted', { user: e.username }));
            break;
          case 'accessRequested':
            toast('info', t('toast.accessRequestedAdmin', { user: e.username, room: e.room }), {
              label: t('toast.see'),
              run: () => setView({ kind: 'admin' }),
            });
            break;
          case 'notice':
            toast('info', e.text);
            break;
          default:
            break;
        }
      }),
      session.dm.on('received', (r) => {
        if (!getPrefs().notifications) return;
        const looking = document.visibilityState === 'visible' && document.hasFocus() && view.kind === 'dm' && view.username.toLowerCase() === r.peer.toLowerCase();
        if (looking) return;
        showNotification(
          { title: t('notify.dm', { user: r.author }), body: r.text.slice(0, 300), target: `dm:${r.peer}` },
          () => setView({ kind: 'dm', username: r.peer }),
        );
      }),
      session.dm.on('keyChanged', (k) => {
        if (view.kind === 'dm' && view.username.toLowerCase() === k.username.toLowerCase()) return; // the warning is on screen
        toast('error', t('dm.keyChangedTitle', { user: k.username }), { label: t('toast.see'), run: () => setView({ kind: 'dm', username: k.username }) });
      }),
      session.dm.on('warning', (w) => {
        const known = DM_WARNINGS[w.code];
        // Taking the account's keys is news, not a fault.
        toast(w.code === 'IDENTITY_ADOPTED' ? 'info' : 'error', known ? t(known) : w.message);
      }),
      session.dm.on('historyProgress', (p) => {
        if (p.done) toast('success', t('dm.historyReceived', { n: p.added }));
      }),
      session.dm.on('keyLogAlarm', (a) => {
        const key = a.kind === 'unknownBinding' ? 'dm.warn.keyLogUnknownBinding' : a.kind === 'unlogged' ? 'dm.warn.keyLogUnlogged' : 'dm.warn.keyLogInconsistent';
        toast('error', t(key, { user: a.username ?? '' }));
      }),
      client.on('resynced', (r) => {
        if (r.messages > 0) toast('info', t('status.resynced', { n: r.messages }));
      }),
      client.on('message', (m) => {
        if (!getPrefs().notifications || m.author === client.username) return;
        const looking = document.visibilityState === 'visible' && document.hasFocus() && view.kind === 'room' && view.name === m.room;
        if (looking || !mentions(m.text, client.username ?? '')) return;
        showNotification(
          { title: t('notify.mention', { user: m.author, room: m.room }), body: m.text.slice(0, 300), target: `room:${m.room}` },
          () => setView({ kind: 'room', name: m.room }),
        );
      }),
    ];
    return () => {
      for (const off of offs) off();
    };
  }, [client, session, t, view, setView]);
}
