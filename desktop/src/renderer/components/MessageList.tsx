/**
 * A scrolling message list: grouped by author, day separators, older pages loaded when the
 * top comes near (keeping the reading position), sticks to the bottom while at the bottom.
 */
import { useCallback, useLayoutEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { useI18n } from '../i18n/index.js';
import type { TimelineItem } from '../state/timeline.js';
import { buildRows, startOfDay } from '../state/timeline.js';
import { Avatar } from './Avatar.js';
import { ArrowDownIcon } from './Icons.js';
import { MessageText } from './MessageText.js';

/** Distance from the top (px) at which the next older page is asked for. */
const LOAD_OLDER_MARGIN_PX = 300;
const AT_BOTTOM_SLACK_PX = 48;

export function MessageList({
  items,
  me,
  label,
  hasOlder,
  loadingOlder,
  onLoadOlder,
  header,
  empty,
  renderStatus,
}: {
  items: TimelineItem[];
  me: string;
  label: string;
  hasOlder: boolean;
  loadingOlder: boolean;
  onLoadOlder: () => void;
  header: ReactNode;
  empty: ReactNode;
  renderStatus: (item: TimelineItem) => ReactNode;
}) {
  const { t, time, locale } = useI18n();
  const rows = useMemo(() => buildRows(items), [items]);
  const scroller = useRef<HTMLDivElement>(null);
  const prev = useRef<{ first: string | null; last: string | null; height: number; atBottom: boolean }>({
    first: null,
    last: null,
    height: 0,
    atBottom: true,
  });
  const [unseen, setUnseen] = useState(false);

  const first = items[0]?.key ?? null;
  const last = items[items.length - 1] ?? null;

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const p = prev.current;
    if (p.first !== null && first !== p.first && last?.key === p.last) {
      // An older page went in above: keep what the reader was looking at in place.
      el.scrollTop += el.scrollHeight - p.height;
    } else if (p.atBottom || (last && last.key !== p.last && last.author === me)) {
      el.scrollTop = el.scrollHeight;
      setUnseen(false);
    } else if (last && last.key !== p.last) {
      setUnseen(true);
    }
    prev.current = { first, last: last?.key ?? null, height: el.scrollHeight, atBottom: isAtBottom(el) };
  }, [first, last, me]);

  const maybeLoadOlder = useCallback(() => {
    const el = scroller.current;
    if (!el || !hasOlder || loadingOlder) return;
    if (el.scrollTop < LOAD_OLDER_MARGIN_PX) onLoadOlder();
  }, [hasOlder, loadingOlder, onLoadOlder]);

  // A first page that does not fill the screen: fetch more until it does (or history ends).
  useLayoutEffect(() => {
    const el = scroller.current;
    if (el && hasOlder && !loadingOlder && el.scrollHeight <= el.clientHeight + LOAD_OLDER_MARGIN_PX) onLoadOlder();
  }, [hasOlder, loadingOlder, onLoadOlder, items.length]);

  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    const atBottom = isAtBottom(el);
    prev.current.atBottom = atBottom;
    prev.current.height = el.scrollHeight;
    if (atBottom) setUnseen(false);
    maybeLoadOlder();
  };

  const dayFormat = useMemo(() => new Intl.DateTimeFormat(locale, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' }), [locale]);
  const today = startOfDay(Date.now());
  const dayLabel = (day: number) =>
    day === today ? t('room.today') : day === startOfDay(today - 12 * 3600_000) ? t('room.yesterday') : dayFormat.format(day);

  return (
    <div className="timeline-wrap">
      <div className="timeline" ref={scroller} onScroll={onScroll} role="log" aria-label={label} tabIndex={0} data-testid="timeline">
        <div className="timeline-top">
          {loadingOlder ? (
            <p className="timeline-loading" role="status">
              <span className="spinner" aria-hidden="true" /> {t('room.loadingOlder')}
            </p>
          ) : !hasOlder ? (
            <div className="timeline-start" data-testid="timeline-start">
              {header}
              {items.length === 0 && <p className="muted">{empty}</p>}
            </div>
          ) : null}
        </div>
        {rows.map((row) =>
          row.kind === 'day' ? (
            <div key={row.key} className="day-sep" role="separator">
              <span>{dayLabel(row.day)}</span>
            </div>
          ) : (
            <article
              key={row.key}
              className={`msg ${row.first ? 'msg--first' : ''} msg--${row.item.status}`}
              data-seq={row.item.seq ?? undefined}
              data-status={row.item.status}
              data-author={row.item.author}
              aria-label={row.first ? undefined : `${row.item.author}, ${time(row.item.ts)}`}
            >
              <div className="msg-gutter">
                {row.first ? (
                  <Avatar name={row.item.author} />
                ) : (
                  <time className="msg-hover-time" dateTime={new Date(row.item.ts).toISOString()}>
                    {time(row.item.ts)}
                  </time>
                )}
              </div>
              <div className="msg-main">
                {row.first && (
                  <header className="msg-head">
                    <bdi className="msg-author">{row.item.author}</bdi>
                    <time className="msg-time" dateTime={new Date(row.item.ts).toISOString()}>
                      {time(row.item.ts)}
                    </time>
                  </header>
                )}
                <div className="msg-body">
                  <p className="msg-text" dir="auto">
                    <MessageText text={row.item.text} me={me} />
                  </p>
                  {renderStatus(row.item)}
                </div>
              </div>
            </article>
          ),
        )}
      </div>
      {unseen && (
        <button
          type="button"
          className="jump-btn"
          onClick={() => {
            const el = scroller.current;
            if (el) el.scrollTop = el.scrollHeight;
            setUnseen(false);
          }}
        >
          <ArrowDownIcon size={14} /> {t('room.newMessages')}
        </button>
      )}
    </div>
  );
}

function isAtBottom(el: HTMLElement): boolean {
  return el.scrollHeight - el.scrollTop - el.clientHeight < AT_BOTTOM_SLACK_PX;
}
