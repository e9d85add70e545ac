/** Ctrl+K: type a few letters of a room or a friend, Enter to open it. */
import { useMemo, useState } from 'react';
import { Dialog } from '../components/Dialog.js';
import { HashIcon, LockIcon, MessageIcon } from '../components/Icons.js';
import { UserText } from '../components/UserText.js';
import { useI18n } from '../i18n/index.js';
import type { Session } from '../state/session.js';
import type { View } from '../state/view.js';

interface Entry {
  view: View;
  label: string;
  icon: 'room' | 'locked' | 'dm';
}

export function QuickSwitcher({ session, onClose, onPick }: { session: Session; onClose: () => void; onPick: (v: View) => void }) {
  const { t } = useI18n();
  const [query, setQuery] = useState('');
  const [index, setIndex] = useState(0);
  const client = session.client;

  const entries = useMemo<Entry[]>(() => {
    const all: Entry[] = [
      ...[...client.rooms.values()].map((r) => ({
        view: { kind: 'room', name: r.info.name } as View,
        label: r.info.name,
        icon: r.info.access === 'member' ? ('room' as const) : ('locked' as const),
      })),
      ...client.friends
        .filter((f) => f.state === 'friends')
        .map((f) => ({ view: { kind: 'dm', username: f.username } as View, label: f.username, icon: 'dm' as const })),
    ];
    const q = query.trim().toLocaleLowerCase();
    return q ? all.filter((e) => e.label.toLocaleLowerCase().includes(q)) : all;
  }, [client, query]);

  const pick = (e: Entry | undefined) => e && onPick(e.view);

  return (
    <Dialog title={t('switcher.title')} onClose={onClose}>
      <input
        className="switcher-input"
        value={query}
        placeholder={t('switcher.placeholder')}
        aria-label={t('switcher.placeholder')}
        aria-controls="switcher-list"
        aria-activedescendant={entries[index] ? `switcher-${index}` : undefined}
        role="combobox"
        aria-expanded="true"
        data-autofocus
        onChange={(e) => {
          setQuery(e.target.value);
          setIndex(0);
        }}
        onKeyDown={(e) => {
          if (e.key === 'ArrowDown') {
            e.preventDefault();
            setIndex((i) => Math.min(i + 1, entries.length - 1));
          } else if (e.key === 'ArrowUp') {
            e.preventDefault();
            setIndex((i) => Math.max(i - 1, 0));
          } else if (e.key === 'Enter') {
            e.preventDefault();
            pick(entries[index]);
          }
        }}
      />
      <ul className="switcher-list" id="switcher-list" role="listbox">
        {entries.length === 0 && <li className="muted switcher-empty">{t('switcher.none')}</li>}
        {entries.map((e, i) => (
          <li
            key={`${e.icon}:${e.label}`}
            id={`switcher-${i}`}
            role="option"
            aria-selected={i === index}
            className={i === index ? 'switcher-item is-active' : 'switcher-item'}
            onMouseEnter={() => setIndex(i)}
            onClick={() => pick(e)}
          >
            {e.icon === 'room' ? <HashIcon size={16} /> : e.icon === 'locked' ? <LockIcon size={16} /> : <MessageIcon size={16} />}
            <UserText text={e.label} />
          </li>
        ))}
      </ul>
    </Dialog>
  );
}
