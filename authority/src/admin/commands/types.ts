/**
 * The shape of an admin command: it parses its words, calls an operation (handlers/, which an
 * admin's client reaches through the same functions) and formats the answer. One
 * implementation per command, run by both front-ends: the console on the authority's
 * terminal and the control socket (chandler-admin).
 */
import { neutraliseBidi } from '../../../../shared/display-text.js';
import type { ErrorCode, Failure } from '../../../../shared/protocol/index.js';
import type { Actor, AdminServices } from '../../context.js';

/** How a command talks back to whoever runs it, beyond its one reply. */
export interface AdminIo {
  /** False over the control socket: nothing can be asked, `--yes` must say it up front. */
  readonly interactive: boolean;
  confirm(question: string): Promise<boolean>;
  /** A password typed without echo (asked twice); null when none can be given this way. */
  secret(question: string): Promise<string | null>;
}

export interface AdminContext {
  readonly services: AdminServices;
  readonly actor: Actor;
  readonly io: AdminIo;
  /** Graceful stop of the whole authority (then the process exits 0). */
  shutdown(reason: string): void;
}

export interface Reply {
  ok: boolean;
  text: string;
}

/** What an argument holds: drives usage lines and tab completion. */
export type ArgKind = 'user' | 'room' | 'policy' | 'seconds' | 'count' | 'text' | 'word';

export interface ArgSpec {
  name: string;
  kind: ArgKind;
  optional?: boolean;
  /** Takes every remaining word (a ban reason). */
  rest?: boolean;
  /** Fixed words this argument may be (for completion). */
  choices?: readonly string[];
}

export interface Parsed {
  args: string[];
  flags: ReadonlySet<string>;
}

export interface Command {
  /** Without the slash: 'ban'. */
  name: string;
  aliases?: readonly string[];
  args: readonly ArgSpec[];
  flags?: readonly string[];
  summary: string;
  run(ctx: AdminContext, input: Parsed): Reply | Promise<Reply>;
}

/** A reply names rooms and quotes reasons: their bidi controls are shown as markers, never obeyed. */
export function done(text: string): Reply {
  return { ok: true, text: neutraliseBidi(text) };
}

export function failed(text: string): Reply {
  return { ok: false, text: neutraliseBidi(text) };
}

/** A typed failure from an operation, as the console prints it. */
export function refused(error: Failure<ErrorCode>): Reply {
  return failed(`error ${error.code}: ${error.message}`);
}

export function usageOf(cmd: Command): string {
  const parts = [`/${cmd.name}`];
  for (const a of cmd.args) {
    const shown = a.rest ? `${a.name}…` : a.name;
    parts.push(a.optional ? `[${shown}]` : `<${shown}>`);
  }
  for (const f of cmd.flags ?? []) parts.push(`[${f}]`);
  return parts.join(' ');
}

export function usage(cmd: Command): Reply {
  return failed(`usage: ${usageOf(cmd)}`);
}
