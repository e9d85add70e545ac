/** Add a friend by name; answer requests; see who is online; remove a friend. */
import { useId, useState, type FormEvent } from 'react';
import type { Failure } from '../../../../shared/protocol/index.js';
import type { RequestType } from '../../../../shared/protocol/index.js';
import { Avatar } from '../components/Avatar.js';
import { MessageIcon, UserPlusIcon, UsersIcon } from '../components/Icons.js';
import { toast } from '../components/Toasts.js';
import { useI18n } from '../i18n/index.js';
import type { Session } from '../state/session.js';

type FriendAction = Extract<RequestType, 'acceptFriend' | 'refuseFriend' | 'removeFriend'>;

export function FriendsView({ session, onOpenDm }: { session: Session; onOpenDm: (username: string) => void }) {
  const { t, err } = useI18n();
  const client = session.client;
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Failure | null>(null);
  const inputId = useId();
  const errorId = useId();

  const friends = client.friends.filter((f) => f.state === 'friends');
  const incoming = client.friends.filter((f) => f.state === 'incoming');
  const outgoing = client.friends.filter((f) => f.state === 'outgoing');

  async function add(e: FormEvent) {
    e.preventDefault();
    const username = name.trim();
    if (!username) return;
    setBusy(true);
    setProblem(null);
    const r = await client.call('requestFriend', { username });
    setBusy(false);
    if (!r.ok) {
      setProblem(r.error);
      return;
    }
    setName('');
    toast('success', r.value.state === 'friends' ? t('friends.nowFriends', { user: username }) : t('friends.requestSent', { user: username }));
    await client.refreshFriends();
  }

  async function act(type: FriendAction, username: string) {
    const r = await client.call(type, { username });
    if (!r.ok) toast('error', err(r.error));
    await client.refreshFriends();
  }

  return (
    <section className="view friends-view" aria-labelledby="friends-title">
      <header className="view-head">
        <UsersIcon className="view-head-icon" />
        <h1 className="view-title" id="friends-title">
          {t('friends.title')}
        </h1>
      </header>
      <div className="page">
        <form className="card add-friend" onSubmit={add} noValidate>
          <h2 className="card-title">
            <UserPlusIcon size={18} /> {t('friends.addTitle')}
          </h2>
          <div className="field field--inline">
            <label htmlFor={inputId} className="sr-only">
              {t('friends.addLabel')}
            </label>
            <input
              id={inputId}
              value={name}
              placeholder={t('friends.addPlaceholder')}
              autoCapitalize="none"
              spellCheck={false}
              onChange={(e) => setName(e.target.value)}
              aria-invalid={problem ? true : undefined}
              aria-describedby={problem ? errorId : undefined}
              data-testid="add-friend-input"
            />
            <button type="submit" className="btn btn--primary" disabled={busy || !name.trim()}>
              {t('friends.addSubmit')}
            </button>
          </div>
          {problem && (
            <p className="field-error" id={errorId} role="alert">
              {err(problem)}
            </p>
          )}
        </form>

        {incoming.length > 0 && (
          <div className="card">
            <h2 className="card-title">
              {t('friends.incoming')} <span className="badge">{incoming.length}</span>
            </h2>
            <ul className="rows">
              {incoming.map((f) => (
                <li key={f.username} className="row" data-testid={`incoming-${f.username}`}>
                  <Avatar name={f.username} />
                  <div className="row-text">
                    <span className="row-title">{f.username}</span>
                    <span className="row-sub">{t('friends.wantsToBeFriend')}</span>
                  </div>
                  <div className="row-actions">
                    <button type="button" className="btn btn--primary btn--sm" onClick={() => void act('acceptFriend', f.username)}>
                      {t('friends.accept')}
                    </button>
                    <button type="button" className="btn btn--sm" onClick={() => void act('refuseFriend', f.username)}>
                      {t('friends.refuse')}
                    </button>
                  </div>
                </li>
              ))}
            </ul>
          </div>
        )}

        <div className="card">
          <h2 className="card-title">{t('friends.list')}</h2>
          {friends.length === 0 ? (
            <p className="muted">{t('friends.none')}</p>
          ) : (
            <ul className="rows">
              {friends.map((f) => (
                <li key={f.username} className="row" data-testid={`friend-row-${f.username}`} data-online={f.online}>
                  <Avatar name={f.username} online={f.online} />
                  <div className="row-text">
                    <span className="row-title">{f.username}</span>
                    <span className={`row-sub ${f.online ? 'is-online' : ''}`}>{f.online ? t('common.online') : t('common.offline')}</span>
                  </div>
                  <div className="row-actions">
                    <button type="button" className="btn btn--sm btn--soft" onClick={() => onOpenDm(f.username)}>
                      <MessageIcon size={15} /> {t('friends.message')}
                    </button>
                    <button
                      type="button"
                      className="btn btn--sm btn--ghost"
                      onClick={() => {
                        if (window.confirm(t('friends.removeConfirm', { user: f.username }))) void act('removeFriend', f.username);
                      }}
                    >
                      {t('friends.remove')}
                    </button>
                  </div>
                </li>
              ))}
            </ul>
          )}
        </div>

        {outgoing.length > 0 && (
          <div className="card">
            <h2 className="card-title">{t('friends.outgoing')}</h2>
            <ul className="rows">
              {outgoing.map((f) => (
                <li key={f.username} className="row" data-testid={`outgoing-${f.username}`}>
                  <Avatar name={f.username} />
                  <div className="row-text">
                    <span className="row-title">{f.username}</span>
                    <span className="row-sub">{t('friends.waiting')}</span>
                  </div>
                  <div className="row-actions">
                    <button type="button" className="btn btn--sm btn--ghost" onClick={() => void act('removeFriend', f.username)}>
                      {t('friends.cancel')}
                    </button>
                  </div>
                </li>
              ))}
            </ul>
          </div>
        )}
      </div>
    </section>
  );
}
