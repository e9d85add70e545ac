/** How the message list groups messages, and how text becomes links and mentions. */
import { describe, expect, it } from 'vitest';
import { buildRows, GROUP_GAP_MS, initials, mentions, splitText } from '../../desktop/src/renderer/state/timeline.js';
import type { TimelineItem } from '../../desktop/src/renderer/state/timeline.js';
import { pathBadge } from '../../desktop/src/renderer/screens/DmView.js';

const base = new Date(2026, 10, 24, 9, 0).getTime();
let n = 0;
function msg(author: string, ts: number): TimelineItem {
  n++;
  return { key: `s${n}`, seq: n, clientId: `c${n}`, author, text: `m${n}`, ts, status: 'received' };
}

describe('grouping', () => {
  it('puts a header on the first message of each author run, and a separator on each new day', () => {
    const items = [
      msg('alice', base),
      msg('alice', base + 60_000),
      msg('bob', base + 120_000),
      msg('bob', base + 120_000 + GROUP_GAP_MS + 1),
      msg('bob', base + 24 * 3600_000),
    ];
    const rows = buildRows(items);
    expect(rows.map((r) => (r.kind === 'day' ? 'day' : r.first ? `${r.item.author}*` : r.item.author))).toEqual([
      'day',
      'alice*',
      'alice',
      'bob*',
      'bob*',
      'day',
      'bob*',
    ]);
  });

  it('is empty for no messages', () => {
    expect(buildRows([])).toEqual([]);
  });
});

describe('message text', () => {
  it('finds links and mentions, and keeps everything else as plain text', () => {
    expect(splitText('voir https://intranet.lan/doc?id=4, merci @marie.dupont.', 'marie.dupont')).toEqual([
      { kind: 'text', text: 'voir ' },
      { kind: 'link', href: 'https://intranet.lan/doc?id=4', text: 'https://intranet.lan/doc?id=4' },
      { kind: 'text', text: ', merci ' },
      { kind: 'mention', text: '@marie.dupont', me: true },
      { kind: 'text', text: '.' },
    ]);
    expect(splitText('<img src=x onerror=alert(1)> javascript:alert(1)', 'x')).toEqual([{ kind: 'text', text: '<img src=x onerror=alert(1)> javascript:alert(1)' }]);
  });

  it('shows bidi controls as markers, and an address hiding an invisible character as text, not a link', () => {
    expect(splitText('see https://files.example/\u202egnp.exe now', 'x')).toEqual([
      { kind: 'text', text: 'see https://files.example/[U+202E]gnp.exe now' },
    ]);
    expect(splitText('https://pay\u200bpal.example/login and \u2067שלום\u2069 https://intranet.lan/', 'x')).toEqual([
      { kind: 'text', text: 'https://pay\u200bpal.example/login and [U+2067]שלום[U+2069] ' },
      { kind: 'link', href: 'https://intranet.lan/', text: 'https://intranet.lan/' },
    ]);
    expect(splitText('שלום עולם, ראו https://intranet.lan/doc', 'x')).toEqual([
      { kind: 'text', text: 'שלום עולם, ראו ' },
      { kind: 'link', href: 'https://intranet.lan/doc', text: 'https://intranet.lan/doc' },
    ]);
  });

  it('tells a mention of me from a longer name', () => {
    expect(mentions('@Marie.Dupont tu viens ?', 'marie.dupont')).toBe(true);
    expect(mentions('@marie.dupont2 tu viens ?', 'marie.dupont')).toBe(false);
    expect(mentions('marie.dupont sans arobase', 'marie.dupont')).toBe(false);
  });

  it('makes initials from names', () => {
    expect(initials('marie.dupont')).toBe('MD');
    expect(initials('bob')).toBe('BO');
  });
});

describe('DM path badges', () => {
  it('shows direct, relayed, or waiting until a stored message is delivered', () => {
    expect(pathBadge({ direction: 'out', path: 'direct', status: 'sent' })).toBe('direct');
    expect(pathBadge({ direction: 'out', path: 'relayed', status: 'delivered' })).toBe('relayed');
    expect(pathBadge({ direction: 'out', path: 'stored', status: 'sent' })).toBe('waiting');
    expect(pathBadge({ direction: 'out', path: null, status: 'queued' })).toBe('waiting');
    expect(pathBadge({ direction: 'out', path: 'stored', status: 'delivered' })).toBe('relayed');
    expect(pathBadge({ direction: 'in', path: 'stored', status: 'received' })).toBe('relayed');
    expect(pathBadge({ direction: 'out', path: null, status: 'sending' })).toBeNull();
  });
});
