/** Create a room; give or take a user's access to one (audited, like the console's /grant). */
import { useId, useState, type FormEvent } from 'react';
import { neutraliseBidi } from '../../../../shared/display-text.js';
import type { Failure } from '../../../../shared/protocol/index.js';
import { LIMITS } from '../../../../shared/protocol/index.js';
import { toast } from '../components/Toasts.js';
import { useI18n } from '../i18n/index.js';
import type { Session } from '../state/session.js';

type Policy = 'open' | 'approval' | 'closed';
type Problem = Failure | null;

export function RoomsPanel({ session }: { session: Session }) {
  const { t, err } = useI18n();
  const client = session.client;
  const rooms = [...client.rooms.keys()];
  const [name, setName] = useState('');
  const [policy, setPolicy] = useState<Policy>('approval');
  const [createProblem, setCreateProblem] = useState<Problem>(null);
  const [user, setUser] = useState('');
  const [room, setRoom] = useState(rooms[0] ?? '');
  const [accessProblem, setAccessProblem] = useState<Problem>(null);
  const ids = { name: useId(), policy: useId(), user: useId(), room: useId() };

  async function create(e: FormEvent) {
    e.preventDefault();
    const roomName = name.trim();
    if (!roomName) return;
    const r = await client.call('adminCreateRoom', { name: roomName, policy });
    if (!r.ok) {
      setCreateProblem(r.error);
      return;
    }
    setCreateProblem(null);
    setName('');
    toast('success', t('admin.roomCreated', { room: roomName }));
    await client.refreshRooms();
  }

  async function access(grant: boolean) {
    const username = user.trim();
    if (!username || !room) return;
    const r = await client.call(grant ? 'adminGrant' : 'adminRevoke', { username, room });
    if (!r.ok) {
      setAccessProblem(r.error);
      return;
    }
    setAccessProblem(null);
    toast('success', grant ? t('admin.granted', { user: username, room }) : t('admin.revoked', { user: username, room }));
  }

  return (
    <>
      <form className="card form" onSubmit={create} noValidate>
        <h2 className="card-title">{t('admin.createRoom')}</h2>
        <div className="field-row">
          <div className="field">
            <label htmlFor={ids.name}>{t('admin.roomName')}</label>
            <input id={ids.name} value={name} maxLength={LIMITS.roomNameMax} onChange={(e) => setName(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor={ids.policy}>{t('admin.policy')}</label>
            <select id={ids.policy} value={policy} onChange={(e) => setPolicy(e.target.value as Policy)}>
              <option value="open">{t('admin.policy.open')}</option>
              <option value="approval">{t('admin.policy.approval')}</option>
              <option value="closed">{t('admin.policy.closed')}</option>
            </select>
          </div>
        </div>
        {createProblem && (
          <p className="field-error" role="alert">
            {err(createProblem)}
          </p>
        )}
        <div>
          <button type="submit" className="btn btn--primary" disabled={!name.trim()}>
            {t('admin.createSubmit')}
          </button>
        </div>
      </form>

      <form
        className="card form"
        onSubmit={(e) => {
          e.preventDefault();
          void access(true);
        }}
        noValidate
      >
        <h2 className="card-title">{t('admin.roomAccess')}</h2>
        <div className="field-row">
          <div className="field">
            <label htmlFor={ids.user}>{t('auth.username')}</label>
            <input id={ids.user} value={user} autoCapitalize="none" spellCheck={false} onChange={(e) => setUser(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor={ids.room}>{t('admin.room')}</label>
            <select id={ids.room} value={room} onChange={(e) => setRoom(e.target.value)}>
              {rooms.map((r) => (
                <option key={r} value={r}>
                  {neutraliseBidi(r)}
                </option>
              ))}
            </select>
          </div>
        </div>
        {accessProblem && (
          <p className="field-error" role="alert">
            {err(accessProblem)}
          </p>
        )}
        <div className="button-row">
          <button type="submit" className="btn btn--primary" disabled={!user.trim()}>
            {t('admin.grant')}
          </button>
          <button type="button" className="btn" disabled={!user.trim()} onClick={() => void access(false)}>
            {t('admin.revoke')}
          </button>
        </div>
      </form>
    </>
  );
}
