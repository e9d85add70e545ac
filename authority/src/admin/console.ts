/**
 * The admin console on the authority's terminal: readline with history and tab completion,
 * one command at a time. Log lines are printed above the prompt and the line being typed is
 * redrawn after them, so nothing tears through what the admin types. Passwords are typed
 * with echo off and never enter the history.
 *
 * Without a terminal (stdin piped, `--console`), the same commands are read line by line,
 * without prompt or line editing: what tests and scripts drive.
 */
import { Writable } from 'node:stream';
import { clearScreenDown, createInterface, cursorTo, moveCursor, type Interface } from 'node:readline';
import type { Actor, AdminServices } from '../context.js';
import type { LogLevel } from '../log.js';
import { complete, runLine } from './commands/index.js';
import type { AdminContext, AdminIo, Reply } from './commands/types.js';

const PROMPT = 'chandler> ';
const HISTORY_SIZE = 500;

/** Passes writes through to the terminal unless muted (password entry); sized like it. */
class MutableOutput extends Writable {
  muted = false;

  constructor(readonly target: NodeJS.WriteStream) {
    super();
    target.on('resize', () => this.emit('resize'));
  }

  get columns(): number {
    return this.target.columns;
  }

  get rows(): number {
    return this.target.rows;
  }

  get isTTY(): boolean {
    return this.target.isTTY;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, callback: (err?: Error | null) => void): void {
    // Synchronous pass-through, so that readline's writes and ours never reorder.
    if (!this.muted) this.target.write(chunk);
    callback();
  }
}

interface Question {
  secret: boolean;
  resolve: (answer: string | null) => void;
}

export interface ConsoleOptions {
  input: NodeJS.ReadStream;
  output: NodeJS.WriteStream;
  actor: Actor;
  shutdown: (reason: string, actor: Actor) => void;
}

export class AdminConsole {
  private readonly rl: Interface;
  private readonly out: MutableOutput;
  private readonly terminal: boolean;
  /** Lines typed while a command runs, in order (a pipe delivers many at once). */
  private readonly queue: string[] = [];
  private question: Question | null = null;
  private busy = false;
  private closed = false;
  /** Log lines held back while a password is typed. */
  private held: string[] = [];

  constructor(
    private readonly authority: AdminServices,
    private readonly options: ConsoleOptions,
  ) {
    this.terminal = Boolean(options.input.isTTY && options.output.isTTY);
    this.out = new MutableOutput(options.output);
    this.rl = createInterface({
      input: options.input,
      output: this.out,
      terminal: this.terminal,
      prompt: PROMPT,
      historySize: HISTORY_SIZE,
      removeHistoryDuplicates: true,
      completer: (line: string) => complete(authority, line),
      tabSize: 4,
    });
    // Node's documented hook for keeping secrets out of the history: drop the entry just added
    // when it answers a question (a password, or a y/n that is no command to recall).
    this.rl.on('history', (history: string[]) => {
      if (this.question) history.shift();
    });
    this.rl.on('line', (line) => this.onLine(line));
    this.rl.on('SIGINT', () => this.onInterrupt());
    this.rl.on('close', () => this.onClosed());
    authority.log.setSink((line, level) => this.log(line, level));
  }

  start(): void {
    this.print('admin console ready: /help lists the commands; Tab completes, ↑ recalls, Ctrl-C on an empty line stops the authority');
    this.showPrompt();
  }

  /** Idempotent; the log goes back to plain stdout/stderr. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.question?.resolve(null);
    this.question = null;
    this.authority.log.setSink((line, level) => (level === 'info' ? process.stdout : process.stderr).write(`${line}\n`));
    this.rl.close();
  }

  // ---------- output ----------

  private showPrompt(): void {
    if (this.terminal && !this.closed && !this.busy) this.rl.prompt(true);
  }

  /** Prints above the prompt and the half-typed line, then redraws them. */
  private print(text: string): void {
    if (this.closed) {
      this.options.output.write(`${text}\n`);
      return;
    }
    if (!this.terminal || this.busy) {
      this.out.write(`${text}\n`);
      return;
    }
    const t = this.options.output;
    const rows = this.rl.getCursorPos().rows;
    if (rows > 0) moveCursor(t, 0, -rows);
    cursorTo(t, 0);
    clearScreenDown(t);
    // readline redraws a wrapped line by first moving up as many rows as the cursor was down
    // at its last redraw (its `prevRows`; a pasted line leaves it behind): leave it that many
    // rows below the text to move back into.
    const lastRedrawRows = (this.rl as unknown as { prevRows?: unknown }).prevRows;
    const padding = typeof lastRedrawRows === 'number' ? lastRedrawRows : rows;
    t.write(`${text}\n${'\n'.repeat(padding)}`);
    this.rl.prompt(true);
  }

  private log(line: string, level: LogLevel): void {
    if (this.question?.secret && this.terminal) {
      this.held.push(line);
      return;
    }
    if (!this.terminal && level !== 'info') {
      process.stderr.write(`${line}\n`);
      return;
    }
    this.print(line);
  }

  private printReply(reply: Reply): void {
    this.out.write(`${reply.text}\n`);
  }

  // ---------- input ----------

  private onLine(line: string): void {
    if (this.question) {
      const q = this.question;
      this.question = null;
      this.endQuestion(q);
      q.resolve(line);
      return;
    }
    this.queue.push(line);
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    while (this.queue.length > 0 && !this.closed) {
      const line = this.queue.shift()!;
      const reply = await runLine(this.context(), line);
      if (reply) this.printReply(reply);
    }
    this.busy = false;
    this.showPrompt();
  }

  private context(): AdminContext {
    return {
      services: this.authority,
      actor: this.options.actor,
      io: this.io,
      shutdown: (reason) => {
        this.close();
        this.options.shutdown(reason, this.options.actor);
      },
    };
  }

  private readonly io: AdminIo = {
    interactive: true,
    confirm: async (question) => {
      const answer = await this.ask(question, false);
      return answer !== null && /^(y|yes|o|oui)$/i.test(answer.trim());
    },
    secret: async (question) => {
      const first = await this.ask(question, true);
      if (first === null || first === '') return null;
      const again = await this.ask('Again: ', true);
      if (again !== first) {
        this.out.write('the two passwords differ\n');
        return null;
      }
      return first;
    },
  };

  /** Asks a question; the next line answers it (a line already queued, when piped). */
  private ask(text: string, secret: boolean): Promise<string | null> {
    if (this.closed) return Promise.resolve(null);
    if (!this.terminal) {
      const queued = this.queue.shift();
      if (queued !== undefined) return Promise.resolve(queued);
    }
    return new Promise((resolve) => {
      this.question = { secret, resolve };
      if (this.terminal) {
        this.rl.setPrompt(text);
        this.rl.prompt();
        if (secret) this.out.muted = true;
      } else {
        this.out.write(text + '\n');
      }
    });
  }

  private endQuestion(q: Question): void {
    if (!this.terminal) return;
    if (q.secret) {
      this.out.muted = false;
      this.out.write('\n');
    }
    this.rl.setPrompt(PROMPT);
    const held = this.held;
    this.held = [];
    for (const line of held) this.out.write(`${line}\n`);
  }

  /** Ctrl-C: cancels a question, clears a half-typed line, or (on an empty line) stops the authority. */
  private onInterrupt(): void {
    if (this.question) {
      const q = this.question;
      this.question = null;
      this.endQuestion(q);
      this.out.write('^C\n');
      q.resolve(null);
      return;
    }
    if (this.rl.line.length > 0 || this.busy) {
      this.out.write('^C\n');
      this.rl.write(null, { ctrl: true, name: 'e' });
      this.rl.write(null, { ctrl: true, name: 'u' });
      this.showPrompt();
      return;
    }
    this.out.write('^C\n');
    this.context().shutdown('stopped at the console (Ctrl-C)');
  }

  private onClosed(): void {
    if (this.closed) return;
    this.closed = true;
    this.question?.resolve(null);
    this.question = null;
    this.authority.log.setSink((line, level) => (level === 'info' ? process.stdout : process.stderr).write(`${line}\n`));
    this.options.output.write(
      '\nconsole input closed: the authority keeps running (stop it with SIGTERM, or `npm run -s admin -- kill`)\n',
    );
  }
}
