/**
 * Every admin command, the parsing of a command line (console input or chandler-admin's
 * argv, both untrusted text), /help, and tab completion.
 */
import type { Services } from '../../context.js';
import { AUDIT_COMMANDS } from './audit.js';
import { DATA_COMMANDS } from './data.js';
import { FRIEND_COMMANDS } from './friends.js';
import { table } from './format.js';
import { ROOM_COMMANDS } from './rooms.js';
import { SERVER_COMMANDS } from './server.js';
import { done, failed, usage, usageOf, type AdminContext, type Command, type Reply } from './types.js';
import { USER_COMMANDS } from './users.js';

export type { AdminContext, AdminIo, Reply } from './types.js';

/** Longest command line accepted (console or socket). */
export const MAX_LINE_CHARS = 2000;
/** /help shows summaries whole. */
const HELP_CELL_CHARS = 200;

const help: Command = {
  name: 'help',
  args: [{ name: 'command', kind: 'word', optional: true }],
  summary: 'this list, or one command’s usage',
  run(_ctx, { args }) {
    if (args.length > 1) return usage(help);
    if (args.length === 1) {
      const cmd = lookup(args[0]!);
      if (!cmd) return failed(`unknown command ${args[0]}: type /help for the list`);
      return done(`${usageOf(cmd)}\n  ${cmd.summary}${aliasNote(cmd)}`);
    }
    const rows = COMMANDS.map((c) => [usageOf(c), c.summary + aliasNote(c)]);
    return done(
      `${table(['COMMAND', 'WHAT IT DOES'], rows, HELP_CELL_CHARS)}\n` +
        'The slash is optional. Tab completes commands, users and rooms.\n' +
        'Quote names with spaces: /create_room "Team room" open',
    );
  },
};

function aliasNote(cmd: Command): string {
  return cmd.aliases?.length ? ` (also: ${cmd.aliases.join(', ')})` : '';
}

export const COMMANDS: readonly Command[] = [
  help,
  ...USER_COMMANDS,
  ...ROOM_COMMANDS,
  ...FRIEND_COMMANDS,
  ...SERVER_COMMANDS,
  ...DATA_COMMANDS,
  ...AUDIT_COMMANDS,
];

export function lookup(word: string): Command | undefined {
  const name = word.replace(/^\//, '').toLowerCase();
  return COMMANDS.find((c) => c.name === name || c.aliases?.includes(name));
}

/**
 * Splits a line into words: "double" or 'single' quotes keep spaces, as does a backslash
 * before a space (what completion inserts). Null when a quote is left open.
 */
export function tokenize(line: string): string[] | null {
  return scan(line).words;
}

/** The words, and where the last unfinished word starts (for completion). */
function scan(line: string): { words: string[] | null; lastWordStart: number | null } {
  const words: string[] = [];
  let current = '';
  let inWord = false;
  let start = 0;
  let quote: '"' | "'" | null = null;
  const chars = [...line];
  let offset = 0;
  for (let i = 0; i < chars.length; offset += chars[i]!.length, i++) {
    const ch = chars[i]!;
    if (!inWord && !/\s/.test(ch)) start = offset;
    if (quote) {
      if (ch === quote) quote = null;
      else current += ch;
    } else if (ch === '\\' && i + 1 < chars.length) {
      current += chars[++i]!;
      offset += ch.length;
      inWord = true;
      continue;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(current);
      current = '';
      inWord = false;
    } else {
      current += ch;
      inWord = true;
    }
  }
  if (quote) return { words: null, lastWordStart: inWord ? start : null };
  if (inWord) words.push(current);
  return { words, lastWordStart: inWord ? start : null };
}

/** Runs one command line. Null for a blank line. Never throws: a bug becomes an error reply. */
export async function runLine(ctx: AdminContext, line: string): Promise<Reply | null> {
  if (line.length > MAX_LINE_CHARS) return failed(`error: lines are at most ${MAX_LINE_CHARS} characters`);
  const words = tokenize(line.trim());
  if (words === null) return failed('error: a quote is left open');
  return runWords(ctx, words);
}

export async function runWords(ctx: AdminContext, words: readonly string[]): Promise<Reply | null> {
  if (words.length === 0) return null;
  const cmd = lookup(words[0]!);
  if (!cmd) return failed(`unknown command ${words[0]}: type /help for the list`);
  const args: string[] = [];
  const flags = new Set<string>();
  const takesText = cmd.args.some((a) => a.rest);
  for (const w of words.slice(1)) {
    if (cmd.flags?.includes(w)) flags.add(w);
    else if (w.startsWith('--') && !takesText) return failed(`unknown option ${w}\nusage: ${usageOf(cmd)}`);
    else args.push(w);
  }
  try {
    return await cmd.run(ctx, { args, flags });
  } catch (err) {
    ctx.services.log.error('admin_command_failed', { command: cmd.name, error: (err as Error)?.message ?? String(err) });
    return failed(`internal error while running /${cmd.name}: ${(err as Error)?.message ?? String(err)}`);
  }
}

/**
 * Tab completion for readline: [candidates, the text they complete]. Commands first, then
 * each argument by its kind (usernames, rooms, policies), then the command's flags. A name
 * with spaces is offered quoted when the admin opened a quote, escaped ("Salle\\ projets") otherwise.
 */
export function complete(s: Services, line: string): [string[], string] {
  const { lastWordStart } = scan(line);
  const partial = lastWordStart === null ? '' : line.slice(lastWordStart);
  const words = tokenize(line.slice(0, line.length - partial.length)) ?? [];
  const quoted = partial.startsWith('"');
  const typed = (tokenize(quoted ? `${partial}"` : partial) ?? [''])[0] ?? '';
  const offer = (names: readonly string[]): [string[], string] => {
    const hits = names.filter((n) => n.toLowerCase().startsWith(typed.toLowerCase()));
    const shown = hits.map((n) => (quoted ? `"${n}" ` : `${n.replace(/([\\\s"'])/g, '\\$1')} `));
    return [shown.sort(), partial];
  };
  if (words.length === 0) {
    const names = COMMANDS.flatMap((c) => [`/${c.name}`, ...(c.aliases ?? [])]);
    return offer(partial === '' || partial.startsWith('/') ? names : names.map((n) => n.replace(/^\//, '')));
  }
  const cmd = lookup(words[0]!);
  if (!cmd) return [[], partial];
  if (partial.startsWith('--')) return offer(cmd.flags ?? []);
  const spec = cmd.args[words.length - 1];
  if (!spec || spec.rest) return [[], partial];
  let pool: string[] = [];
  if (spec.kind === 'user') pool = s.store.users.all().map((u) => u.username);
  else if (spec.kind === 'room') pool = s.store.rooms.all().map((r) => r.name);
  else if (spec.kind === 'word' && cmd.name === 'help') pool = COMMANDS.map((c) => c.name);
  return offer(pool.concat(spec.choices ?? []));
}
