/**
 * Direct messages with a friend: end-to-end encrypted, peer-to-peer when possible. Each
 * message shows the lock and the path it took (direct / relayed / waiting); the safety number
 * can be compared at any time; a changed key blocks sending until the user has checked it.
 */
import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import type { DmRecord } from '../../../../shared/client/dm/index.js';
import type { Failure } from '../../../../shared/protocol/index.js';
import { Avatar } from '../components/Avatar.js';
import { Composer } from '../components/Composer.js';
import { Dialog } from '../components/Dialog.js';
import { AlertIcon, CheckIcon, ClockIcon, KeyIcon, LockIcon, ShieldIcon } from '../components/Icons.js';
import { MessageList } from '../components/MessageList.js';
import { useI18n, type MessageKey } from '../i18n/index.js';
import type { DmTimelineItem, PasswordCheck } from '../state/dm.js';
import { desktop } from '../platform.js';
import type { Session } from '../state/session.js';
import type { TimelineItem } from '../state/timeline.js';

type Badge = 'direct' | 'relayed' | 'waiting';

/** The path badge a message shows: how it went (or came), "waiting" until it can be delivered. */
export function pathBadge(dm: Pick<DmRecord, 'direction' | 'path' | 'status'>): Badge | null {
  if (dm.direction === 'out' && (dm.status === 'queued' || (dm.path === 'stored' && dm.status !== 'delivered'))) return 'waiting';
  if (dm.path === 'direct') return 'direct';
  if (dm.path === 'relayed' || dm.path === 'stored') return 'relayed';
  return null;
}

export function DmView({ session, username, checkPassword }: { session: Session; username: string; checkPassword: PasswordCheck }) {
  const { t, err } = useI18n();
  const dm = session.dm;
  const friend = session.client.friends.find((f) => f.username.toLowerCase() === username.toLowerCase() && f.state === 'friends');
  const [safety, setSafety] = useState(false);
  const [sendError, setSendError] = useState<Failure | null>(null);

  useEffect(() => {
    dm.setViewing(username);
    return () => dm.setViewing(null);
  }, [dm, username]);

  const loadOlder = useCallback(() => dm.loadOlder(username), [dm, username]);

  const header = (
    <header className="view-head">
      <Avatar name={username} size="sm" online={friend?.online ?? false} />
      <h1 className="view-title">{username}</h1>
      <span className="view-sub">{friend?.online ? t('common.online') : t('common.offline')}</span>
      {dm.state === 'ready' && friend && (
        <span className={`channel channel--${dm.channel(username)}`} data-testid="dm-channel">
          {dm.channel(username) === 'open' ? t('dm.channel.open') : t('dm.channel.server')}
        </span>
      )}
      <div className="view-actions">
        {dm.state === 'ready' && friend && (
          <button type="button" className="btn btn--sm btn--ghost" onClick={() => setSafety(true)}>
            <ShieldIcon size={16} /> {t('dm.safetyNumber')}
          </button>
        )}
      </div>
    </header>
  );

  if (!friend) {
    return (
      <section className="view dm-view" aria-label={t('dm.title', { user: username })}>
        {header}
        <div className="locked-card">
          <span className="locked-icon" aria-hidden="true">
            <LockIcon size={30} />
          </span>
          <h2>{t('dm.notFriends')}</h2>
        </div>
      </section>
    );
  }

  if (dm.state !== 'ready') {
    return (
      <section className="view dm-view" aria-label={t('dm.title', { user: username })}>
        {header}
        <UnlockCard session={session} checkPassword={checkPassword} />
      </section>
    );
  }

  const { items, full } = dm.timeline(username, session.me);
  const blocked = dm.isBlocked(username);

  const renderStatus = (item: TimelineItem) => {
    const rec = (item as DmTimelineItem).dm;
    const badge = pathBadge(rec);
    const mine = rec.direction === 'out';
    return (
      <span className="dm-badges" data-path={badge ?? ''} data-dm-status={rec.status}>
        <LockIcon size={12} aria-label={t('dm.encrypted')} role="img" aria-hidden={undefined} />
        {badge && <span className={`path-badge path-badge--${badge}`}>{t(`dm.path.${badge}` as MessageKey)}</span>}
        {mine && rec.status === 'sending' && (
          <span className="msg-status">
            <ClockIcon size={12} /> {t('room.sending')}
          </span>
        )}
        {mine && rec.status === 'delivered' && (
          <span className="msg-status" title={t('dm.delivered')}>
            <CheckIcon size={12} /> {t('dm.delivered')}
          </span>
        )}
        {mine && rec.status === 'failed' && (
          <span className="msg-status msg-status--failed">
            <AlertIcon size={12} /> {t('room.failed')}
            {rec.error ? ` : ${err(rec.error)}` : ''}
          </span>
        )}
      </span>
    );
  };

  return (
    <section className="view dm-view" aria-label={t('dm.title', { user: username })}>
      {header}
      <div className="view-body">
        <div className="view-column">
          {blocked && <KeyChangedCard session={session} username={username} />}
          {dm.history && (
            <p className="alert alert--info" role="status" data-testid="history-progress">
              {t('dm.historyProgress', { received: dm.history.received, total: dm.history.total })}
            </p>
          )}
          <MessageList
            items={items}
            me={session.me}
            label={t('dm.title', { user: username })}
            hasOlder={!full}
            loadingOlder={false}
            onLoadOlder={loadOlder}
            header={
              <>
                <span className="start-icon" aria-hidden="true">
                  <LockIcon size={24} />
                </span>
                <h2>{t('dm.title', { user: username })}</h2>
                <p className="muted">{t('dm.intro', { user: username })}</p>
              </>
            }
            empty=""
            renderStatus={renderStatus}
          />
          {sendError && (
            <p className="composer-error" role="alert">
              <AlertIcon size={14} /> {err(sendError)}
            </p>
          )}
          <Composer
            key={username}
            placeholder={t('dm.placeholder', { user: username })}
            initial={session.draft(`dm:${username}`)}
            onDraft={(text) => session.setDraft(`dm:${username}`, text)}
            disabled={blocked}
            note={!friend.online ? t('dm.offline', { user: username }) : null}
            onSend={(text) => {
              setSendError(null);
              void dm.send(username, text).then(setSendError);
            }}
          />
        </div>
      </div>
      {safety && <SafetyNumberDialog session={session} username={username} onClose={() => setSafety(false)} />}
    </section>
  );
}

function UnlockCard({ session, checkPassword }: { session: Session; checkPassword: PasswordCheck }) {
  const { t, err } = useI18n();
  const dm = session.dm;
  const [password, setPassword] = useState('');
  const [problem, setProblem] = useState<Failure | null>(null);
  const id = useId();
  const busy = dm.state === 'unlocking' || dm.state === 'loading';

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!password) return;
    const r = await dm.unlockWithPassword(session.me, password, checkPassword);
    setProblem(r);
    if (!r) setPassword('');
  }

  if (dm.state === 'failed') {
    return (
      <div className="locked-card">
        <span className="locked-icon" aria-hidden="true">
          <AlertIcon size={30} />
        </span>
        <h2>{t('dm.unavailableTitle')}</h2>
        <p className="muted">{dm.error ? err(dm.error) : ''}</p>
      </div>
    );
  }
  return (
    <form className="locked-card" onSubmit={submit} data-testid="dm-unlock">
      <span className="locked-icon" aria-hidden="true">
        <KeyIcon size={30} />
      </span>
      <h2>{t('dm.lockedTitle')}</h2>
      <p className="muted">{t('dm.locked')}</p>
      <div className="field unlock-field">
        <label htmlFor={id}>{t('auth.password')}</label>
        <input
          id={id}
          type="password"
          autoComplete="current-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          aria-invalid={problem ? true : undefined}
        />
        {problem && (
          <p className="field-error" role="alert">
            {err(problem)}
          </p>
        )}
      </div>
      <button type="submit" className="btn btn--primary" disabled={busy || !password}>
        {busy ? t('auth.working') : t('dm.unlock')}
      </button>
    </form>
  );
}

function Digits({ value }: { value: string }) {
  return (
    <div className="safety-number" data-testid="safety-number">
      {value.split(' ').map((group, i) => (
        <span key={i}>{group}</span>
      ))}
    </div>
  );
}

function KeyChangedCard({ session, username }: { session: Session; username: string }) {
  const { t, err } = useI18n();
  const [digits, setDigits] = useState<string | null>(null);
  const [problem, setProblem] = useState<Failure | null>(null);
  const engine = session.dm.engine;

  useEffect(() => {
    void engine?.safetyNumber(username).then((r) => {
      if (r.ok) setDigits(r.value.pending?.safetyNumber ?? r.value.safetyNumber);
    });
  }, [engine, username]);

  return (
    <div className="key-alert" role="alertdialog" aria-labelledby="key-alert-title" data-testid="key-changed">
      <div className="key-alert-head">
        <AlertIcon size={20} />
        <h2 id="key-alert-title">{t('dm.keyChangedTitle', { user: username })}</h2>
      </div>
      <p>{t('dm.keyChanged', { user: username })}</p>
      {digits && <Digits value={digits} />}
      {problem && <p className="field-error">{err(problem)}</p>}
      <div className="button-row">
        <button
          type="button"
          className="btn btn--primary"
          onClick={async () => {
            const r = await engine?.trust(username);
            if (r && !r.ok) setProblem(r.error);
            session.bump();
          }}
        >
          {t('dm.keyAccept')}
        </button>
      </div>
    </div>
  );
}

function SafetyNumberDialog({ session, username, onClose }: { session: Session; username: string; onClose: () => void }) {
  const { t, err } = useI18n();
  const [digits, setDigits] = useState<string | null>(null);
  const [problem, setProblem] = useState<Failure | null>(null);

  useEffect(() => {
    void session.dm.engine?.safetyNumber(username).then((r) => {
      if (r.ok) setDigits(r.value.safetyNumber);
      else setProblem(r.error);
    });
  }, [session, username]);

  return (
    <Dialog title={t('dm.safetyTitle')} onClose={onClose}>
      <div className="dialog-body safety">
        <p className="muted">{t('dm.safetyExplain', { user: username })}</p>
        {digits ? <Digits value={digits} /> : problem ? <p className="field-error">{err(problem)}</p> : <p className="muted">{t('common.loading')}</p>}
        {/* The desktop app's code is bundled with it; a browser runs whatever code the server serves. */}
        {!desktop && (
          <p className="muted" data-testid="web-code-limit">
            {t('dm.webCodeLimit')}
          </p>
        )}
        <div className="button-row button-row--end">
          <button type="button" className="btn btn--primary" onClick={onClose}>
            {t('common.close')}
          </button>
        </div>
      </div>
    </Dialog>
  );
}
