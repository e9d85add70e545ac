/** The timeline item (a room message or a DM as the message list shows it) and pure helpers for the list: grouping, day separators, links and mentions. */
import { isDeceptiveLink, neutraliseBidi } from '../../../../shared/display-text.js';
import type { Failure } from '../../../../shared/protocol/index.js';

export type TimelineStatus = 'received' | 'sent' | 'sending' | 'failed';

export interface TimelineItem {
  key: string;
  seq: number | null;
  clientId: string;
  author: string;
  text: string;
  ts: number;
  status: TimelineStatus;
  error?: Failure;
}

/** Messages from one author closer than this are shown as one group. */
export const GROUP_GAP_MS = 5 * 60_000;

export type Row =
  | { kind: 'day'; key: string; day: number }
  | { kind: 'message'; key: string; item: TimelineItem; first: boolean };

export function startOfDay(ms: number): number {
  const d = new Date(ms);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

/** Day separators, and a header (author, time) on the first message of each group. */
export function buildRows(items: readonly TimelineItem[], gapMs: number = GROUP_GAP_MS): Row[] {
  const rows: Row[] = [];
  let prev: TimelineItem | null = null;
  for (const item of items) {
    const day = startOfDay(item.ts);
    const newDay = !prev || startOfDay(prev.ts) !== day;
    if (newDay) rows.push({ kind: 'day', key: `d${day}`, day });
    const first = newDay || !prev || prev.author !== item.author || item.ts - prev.ts > gapMs;
    rows.push({ kind: 'message', key: item.key, item, first });
    prev = item;
  }
  return rows;
}

export type TextPart = { kind: 'text'; text: string } | { kind: 'link'; href: string; text: string } | { kind: 'mention'; text: string; me: boolean };

/** Links, and @mentions (a mention does not end with a dot: "merci @marie."). */
const TOKEN = /(https?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]]|@[A-Za-z0-9._-]{2,31}[A-Za-z0-9_-])/g;

/**
 * Splits message text into plain text, http(s) links and @mentions (never HTML), ready to show:
 * bidi controls are markers (shared/display-text.ts), and an address hiding an invisible character
 * is text, not a link, so that nothing clickable goes somewhere other than it reads.
 */
export function splitText(text: string, me: string): TextPart[] {
  const parts: TextPart[] = [];
  const plain = (s: string) => {
    const last = parts[parts.length - 1];
    if (last?.kind === 'text') last.text += neutraliseBidi(s);
    else parts.push({ kind: 'text', text: neutraliseBidi(s) });
  };
  let at = 0;
  for (const m of text.matchAll(TOKEN)) {
    const index = m.index ?? 0;
    if (index > at) plain(text.slice(at, index));
    const token = m[0];
    if (token.startsWith('@')) {
      parts.push({ kind: 'mention', text: token, me: token.slice(1).toLowerCase() === me.toLowerCase() });
    } else if (isDeceptiveLink(token)) {
      plain(token);
    } else {
      parts.push({ kind: 'link', href: token, text: token });
    }
    at = index + token.length;
  }
  if (at < text.length) plain(text.slice(at));
  return parts;
}

export function mentions(text: string, username: string): boolean {
  if (!username) return false;
  return splitText(text, username).some((p) => p.kind === 'mention' && p.me);
}

/** A stable colour slot (0–7) for a username's avatar. */
export function colorSlot(name: string): number {
  let h = 0;
  for (const ch of name.toLowerCase()) h = (h * 31 + ch.codePointAt(0)!) >>> 0;
  return h % 8;
}

export function initials(name: string): string {
  const parts = name.split(/[._-]+/).filter(Boolean);
  const letters = parts.length >= 2 ? parts[0]![0]! + parts[1]![0]! : name.slice(0, 2);
  return letters.toUpperCase();
}
