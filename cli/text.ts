import { neutraliseBidi } from '../shared/display-text.js';

/**
 * Text from the network shown on a terminal: no escape sequences or control characters get
 * through (C0 but tab and newline, DEL, C1: U+009B is a CSI to some terminals), and bidi controls
 * are markers (shared/display-text.ts), since terminals with bidi support obey them too.
 */
export function safeLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return neutraliseBidi(text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '�'));
}

/** How far a message's second and later lines are indented. */
const CONTINUATION = '    ';

/**
 * A message's text as the CLI prints it after `author: `: safeLine, and its later lines indented,
 * so that no line of a message can pass for a message (`#12 … admin: …`) of its own.
 */
export function messageText(text: string): string {
  return safeLine(text).replace(/\n/g, `\n${CONTINUATION}`);
}

/**
 * A JSON line that a terminal cannot be steered by: the characters JSON.stringify leaves raw that
 * a terminal would obey or hide (DEL, C1, bidi controls and marks, zero-width, line and paragraph
 * separators) are written as \u escapes, so the value a program parses is the same.
 */
export function safeJson(data: unknown): string {
  return JSON.stringify(data).replace(/[\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A timestamp as the CLI prints it: `YYYY-MM-DD HH:MM:SS` (UTC). */
export function formatTime(ts: number): string {
  return new Date(ts).toISOString().replace('T', ' ').slice(0, 19);
}
