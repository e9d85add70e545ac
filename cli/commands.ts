/** The CLI's commands: each declares its usage, what login it needs, and what it does. */
import type { ChandlerClient } from '../shared/client/index.js';
import type { Failure, Outcome, RoomMessage, ServerEvent } from '../shared/protocol/index.js';
import { writeFileSync } from 'node:fs';
import { pinnedGet } from './pinned-https.js';
import { formatTime, messageText, safeLine } from './text.js';
import { table, type Output } from './output.js';

export interface CommandContext {
  /** The command's name (plug-ins act only for the commands that need them). */
  command: string;
  client: ChandlerClient;
  args: string[];
  options: { before?: number; limit?: number; for?: number; out?: string; yes?: boolean };
  /** The authority as this run reached it: its URL and the certificate fingerprint it was pinned to. */
  server: { url: URL; fingerprint: string | null };
  out: Output;
  /** The password typed for this run (the DM engine unlocks the device keys with it). */
  password: string;
  /** Plug-ins active in this run (the DM engine is one). */
  plugins: readonly CliPlugin[];
}

/**
 * A plug-in adds commands and can act once the session is up (e.g. unlock device keys)
 * and while `listen` runs (e.g. print decrypted DMs).
 */
export interface CliPlugin {
  commands: Record<string, Command>;
  onSession?(ctx: CommandContext): Promise<CommandResult>;
  onListen?(ctx: CommandContext): void;
  /** Device-side data for `export` (the DM plug-in adds the local DM history). */
  exportData?(ctx: CommandContext): Promise<{ key: string; data: unknown } | null>;
  close?(): Promise<void> | void;
}

/** A failure carries the authority's code, a client-side one, or a CLI one such as USAGE. */
export type CommandResult = { ok: true } | { ok: false; error: Failure | { code: string; message: string; until?: number } };

export interface Command {
  usage: string;
  /**
   * 'register' makes the account; 'login' logs in; 'reset' sets the password typed for this run
   * with an admin's one-time reset code (the command's first argument), then logs in.
   */
  session: 'register' | 'login' | 'reset';
  args: number | [min: number, max: number];
  run(ctx: CommandContext): Promise<CommandResult>;
}

const DONE: CommandResult = { ok: true };

function failed<T>(r: Outcome<T>): CommandResult | null {
  return r.ok ? null : { ok: false, error: r.error };
}

export function formatMessage(m: RoomMessage): string {
  return `#${m.seq} ${formatTime(m.ts)} ${safeLine(m.author)}: ${messageText(m.text)}`;
}

function simple(type: 'requestFriend' | 'acceptFriend' | 'refuseFriend' | 'removeFriend', verb: string): Command {
  return {
    usage: `${verb} <user>`,
    session: 'login',
    args: 1,
    async run({ client, args, out }) {
      const username = args[0]!;
      const r = await client.call(type, { username });
      const f = failed(r);
      if (f) return f;
      const state = r.ok && 'state' in r.value ? (r.value as { state: string }).state : 'ok';
      const text =
        type === 'requestFriend'
          ? state === 'friends'
            ? `you and ${username} are now friends`
            : `friend request sent to ${username}`
          : type === 'acceptFriend'
            ? `you and ${username} are now friends`
            : type === 'refuseFriend'
              ? `refused ${username}'s request`
              : `${username} is no longer your friend`;
      out.result(text, { ok: true, username, state });
      return DONE;
    },
  };
}

/** GDPR: everything the authority holds about me, plus this device's data, as one JSON file. */
const exportCommand: Command = {
  usage: 'export [--out FILE]',
  session: 'login',
  args: 0,
  async run(ctx) {
    const { client, out, server, options } = ctx;
    const url = new URL('/api/export', server.url.href.replace(/^ws/, 'http'));
    const r = await pinnedGet(url, server.fingerprint, { Authorization: `Bearer ${client.session!.token}` });
    if (!r.ok) return { ok: false, error: { code: r.code, message: r.message } };
    if (r.status !== 200) return { ok: false, error: { code: 'INVALID_SESSION', message: `the server refused the export (HTTP ${r.status})` } };
    const data = JSON.parse(r.body) as Record<string, unknown>;
    const device: Record<string, unknown> = {};
    for (const p of ctx.plugins) {
      const extra = await p.exportData?.(ctx);
      if (extra) device[extra.key] = extra.data;
    }
    const file = { ...data, device };
    const path = options.out ?? `chandler-export-${client.username}.json`;
    writeFileSync(path, JSON.stringify(file, null, 2), { mode: 0o600 });
    out.result(`exported your data to ${path}`, { ok: true, file: path });
    return DONE;
  },
};

/** GDPR: erase my account on the authority (room messages included, see docs/SECURITY.md). */
const deleteAccountCommand: Command = {
  usage: 'delete-account --yes',
  session: 'login',
  args: 0,
  async run({ client, out, options, password }) {
    if (!options.yes) {
      return { ok: false, error: { code: 'USAGE', message: 'this erases your account and your room messages for good: add --yes' } };
    }
    const r = await client.deleteAccount(password);
    if (!r.ok) return r;
    out.result(`account ${client.username} erased`, { ok: true });
    return DONE;
  },
};

export const COMMANDS: Record<string, Command> = {
  register: {
    usage: 'register',
    session: 'register',
    args: 0,
    async run({ client, out }) {
      out.result(`registered and logged in as ${client.username}`, { ok: true, user: client.session?.user });
      return DONE;
    },
  },
  'reset-password': {
    usage: 'reset-password <code>',
    session: 'reset',
    args: 1,
    async run({ client, out }) {
      out.result(`new password set; logged in as ${client.username}`, { ok: true, user: client.session?.user });
      return DONE;
    },
  },
  login: {
    usage: 'login',
    session: 'login',
    args: 0,
    async run({ client, out }) {
      const u = client.session!.user;
      out.result(`logged in as ${u.username}${u.admin ? ' (admin)' : ''}`, { ok: true, user: u });
      return DONE;
    },
  },
  rooms: {
    usage: 'rooms',
    session: 'login',
    args: 0,
    async run({ client, out }) {
      const r = await client.call('listRooms', {});
      if (!r.ok) return r;
      const rows = [['ROOM', 'ACCESS', 'POLICY', 'MEMBERS', 'MESSAGES']];
      for (const room of r.value.rooms) {
        rows.push([room.name, room.access, room.policy, String(room.members), String(room.lastSeq)]);
      }
      out.result(table(rows), r.value);
      return DONE;
    },
  },
  request: {
    usage: 'request <room>',
    session: 'login',
    args: 1,
    async run({ client, args, out }) {
      const r = await client.call('requestAccess', { room: args[0]! });
      if (!r.ok) return r;
      const text =
        r.value.access === 'member'
          ? `you are now a member of ${args[0]}`
          : `request sent: an admin must approve your access to ${args[0]}`;
      out.result(text, { ok: true, room: args[0], access: r.value.access });
      return DONE;
    },
  },
  send: {
    usage: 'send <room> <text>',
    session: 'login',
    args: [2, Infinity],
    async run({ client, args, out }) {
      const [room, ...words] = args;
      const m = await client.settled(client.post(room!, words.join(' ')));
      if (m.status === 'failed') return { ok: false, error: m.error! };
      out.result(`sent to ${room} as #${m.seq}`, { ok: true, room, seq: m.seq, clientId: m.clientId });
      return DONE;
    },
  },
  history: {
    usage: 'history <room> [--before N] [--limit N]',
    session: 'login',
    args: 1,
    async run({ client, args, options, out }) {
      const r = await client.history(args[0]!, options.before, options.limit);
      if (!r.ok) return r;
      const lines = r.value.messages.map(formatMessage);
      if (r.value.hasMore && r.value.messages[0]) lines.unshift(`(older: --before ${r.value.messages[0].seq})`);
      out.result(lines.join('\n') || '(no messages)', r.value);
      return DONE;
    },
  },
  friends: {
    usage: 'friends',
    session: 'login',
    args: 0,
    async run({ client, out }) {
      const r = await client.refreshFriends();
      if (!r.ok) return r;
      const label = { friends: 'friend', incoming: 'asks you', outgoing: 'asked' } as const;
      const rows = [['USER', 'STATE', 'ONLINE']];
      for (const f of r.value) rows.push([f.username, label[f.state], f.state === 'friends' ? (f.online ? 'yes' : 'no') : '']);
      out.result(r.value.length ? table(rows) : '(no friends yet: befriend <user>)', { friends: r.value });
      return DONE;
    },
  },
  befriend: simple('requestFriend', 'befriend'),
  accept: simple('acceptFriend', 'accept'),
  refuse: simple('refuseFriend', 'refuse'),
  unfriend: simple('removeFriend', 'unfriend'),
  requests: {
    usage: 'requests',
    session: 'login',
    args: 0,
    async run({ client, out }) {
      const r = await client.accessRequests();
      if (!r.ok) return r;
      const rows = [['USER', 'ROOM', 'SINCE', 'PENDING']];
      for (const q of r.value) {
        rows.push([q.username, q.room, formatTime(q.ts), q.pendingFromUser > 2 ? `${q.pendingFromUser} (many!)` : String(q.pendingFromUser)]);
      }
      out.result(r.value.length ? table(rows) : '(no pending requests)', { requests: r.value });
      return DONE;
    },
  },
  export: exportCommand,
  'delete-account': deleteAccountCommand,
  approve: decide(true),
  deny: decide(false),
  'force-friend': {
    usage: 'force-friend <a> <b>',
    session: 'login',
    args: 2,
    async run({ client, args, out }) {
      const r = await client.call('forceFriend', { a: args[0]!, b: args[1]! });
      if (!r.ok) return r;
      out.result(`${args[0]} and ${args[1]} are now friends`, { ok: true });
      return DONE;
    },
  },
  listen: {
    usage: 'listen [--for SECONDS]',
    session: 'login',
    args: 0,
    async run(ctx) {
      const { client, options, out } = ctx;
      client.on('event', (e: ServerEvent) => {
        if (e.ev === 'signalReceived' || e.ev === 'dmReceived') return; // ciphertext: the DM plug-in reports DMs
        out.event(e);
      });
      for (const p of ctx.plugins) p.onListen?.(ctx);
      client.on('status', (s) => out.event({ ev: 'status', status: s }));
      out.note(`listening as ${client.username}${options.for ? ` for ${options.for}s` : ' (Ctrl+C to stop)'}`);
      await new Promise<void>((resolve) => {
        const timer = options.for ? setTimeout(stop, options.for * 1000) : null;
        const offClosed = client.on('closed', stop);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        function stop() {
          if (timer) clearTimeout(timer);
          offClosed();
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        }
      });
      const why = client.closeInfo;
      if (client.status === 'closed' && why?.error) return { ok: false, error: why.error };
      return DONE;
    },
  },
};

function decide(granted: boolean): Command {
  return {
    usage: `${granted ? 'approve' : 'deny'} <user> <room>`,
    session: 'login',
    args: 2,
    async run({ client, args, out }) {
      const [username, room] = args as [string, string];
      const r = await client.call(granted ? 'approveAccess' : 'denyAccess', { username, room });
      if (!r.ok) return r;
      out.result(`${granted ? 'approved' : 'denied'}: ${username} → ${room}`, { ok: true, username, room, granted });
      return DONE;
    },
  };
}
