/**
 * The CLI's direct-message commands, as a plug-in: at login (register, login, listen, befriend,
 * accept and its own commands) it unlocks this device's DM keys with the password, creating
 * them on the first login, and publishes them; `listen` prints incoming DMs decrypted, with
 * the path each took.
 *
 *   dm <user> <text>        prints the path used (direct, relayed, stored) and the receipt
 *   dms <user> [--limit N]  the local, encrypted-at-rest history with that friend
 *   safety <user>           the safety number to compare in person
 *   trust <user>            accept a friend's changed key
 *   keylog                  checks my own name in the authority's key log, prints the newest signed head
 *   devices                 my devices (all hold my one identity); revoke-device <id> ends one's sessions
 *   dm-export / dm-erase [user]
 *
 * CHANDLER_ICE_TRANSPORT_POLICY=relay allows WebRTC only through a TURN server (none on a
 * plain LAN: every DM then goes through the authority, still end-to-end encrypted).
 */
import type { DmEngine, DmRecord, KeyLogAlarm } from '../shared/client/dm/index.js';
import type { Failure } from '../shared/protocol/index.js';
import type { CliPlugin, Command, CommandContext, CommandResult } from './commands.js';
import { hostname } from 'node:os';
import { formatTime, messageText, safeLine } from './text.js';

/**
 * Commands whose login unlocks (or first creates) the device's DM keys and publishes them.
 * Room-only commands skip it: unsealing the keys costs a deliberate scrypt stretch.
 */
const DM_SESSION_COMMANDS: ReadonlySet<string> = new Set([
  'register',
  'login',
  'reset-password',
  'listen',
  'befriend',
  'accept',
  'dm',
  'dms',
  'safety',
  'trust',
  'dm-export',
  'dm-erase',
  'keylog',
  'export',
  'devices',
  'revoke-device',
]);

/** How long `dm` waits for the friend's receipt when the friend is online. */
const RECEIPT_WAIT_MS = 5000;
export const ICE_POLICY_ENV = 'CHANDLER_ICE_TRANSPORT_POLICY';

const DONE: CommandResult = { ok: true };

function failed(error: Failure): CommandResult {
  // DM codes (KEY_CHANGED, LOCKED) are printed like the authority's: `error CODE: message`.
  return { ok: false, error };
}

export function formatDm(r: DmRecord): string {
  const how = r.direction === 'in' ? r.path : `${r.path ?? r.status}${r.status === 'delivered' ? ', delivered' : r.status === 'failed' ? ', failed' : ''}`;
  return `${formatTime(r.ts)} ${safeLine(r.author)}: ${messageText(r.text)}  (${how})`;
}

function groups(safety: string): string {
  const g = safety.split(' ');
  return [g.slice(0, 4), g.slice(4, 8), g.slice(8, 12)].map((row) => `  ${row.join(' ')}`).join('\n');
}

export function dmPlugin(): CliPlugin {
  let engine: DmEngine | null = null;
  /** Key log alarms raised in this run (at the session's start, or by keylog itself). */
  const alarms: KeyLogAlarm[] = [];

  function unlocked(): DmEngine | CommandResult {
    if (engine?.state === 'ready') return engine;
    return failed({ code: 'LOCKED', message: 'direct messages are not available in this session' });
  }
  const isEngine = (x: DmEngine | CommandResult): x is DmEngine => !('ok' in x);

  const commands: Record<string, Command> = {
    dm: {
      usage: 'dm <user> <text>',
      session: 'login',
      args: [2, Infinity],
      async run({ args, out, client }) {
        const dm = unlocked();
        if (!isEngine(dm)) return dm;
        const [to, ...words] = args as [string, ...string[]];
        const sent = await dm.send(to, words.join(' '));
        if (!sent.ok) return failed(sent.error);
        let r = sent.value;
        const friendOnline = client.friends.some((f) => f.username === r.peer && f.online);
        if (r.status === 'sent' && (r.path === 'direct' || (r.path === 'relayed' && friendOnline))) {
          r = (await dm.waitFor(r, 'delivered', RECEIPT_WAIT_MS)) ?? r;
        }
        const text =
          r.status === 'queued'
            ? `queued for ${r.peer}: the authority is unreachable, sent when it is back`
            : r.path === 'stored'
              ? `stored: ${r.peer} is offline, the authority keeps the encrypted message until they connect`
              : `${r.path}${r.status === 'delivered' ? ', delivered' : ''}`;
        out.result(text, { ok: true, id: r.id, to: r.peer, path: r.path, status: r.status });
        return DONE;
      },
    },
    dms: {
      usage: 'dms <user> [--limit N]',
      session: 'login',
      args: 1,
      async run({ args, options, out }) {
        const dm = unlocked();
        if (!isEngine(dm)) return dm;
        const r = dm.conversation(args[0]!, { limit: options.limit });
        if (!r.ok) return failed(r.error);
        out.result(r.value.length ? r.value.map(formatDm).join('\n') : `(no direct messages with ${args[0]} on this device)`, {
          messages: r.value,
        });
        return DONE;
      },
    },
    safety: {
      usage: 'safety <user>',
      session: 'login',
      args: 1,
      async run({ args, out }) {
        const dm = unlocked();
        if (!isEngine(dm)) return dm;
        const r = await dm.safetyNumber(args[0]!);
        if (!r.ok) return failed(r.error);
        const s = r.value;
        const lines = [`safety number with ${s.username} (compare it with theirs, in person):`, groups(s.safetyNumber)];
        if (s.pending) {
          lines.push(
            `WARNING: ${s.username}'s key changed. Sending to them is blocked. Safety number with the new key:`,
            groups(s.pending.safetyNumber),
            `If ${s.username} confirms these digits, run: trust ${s.username}`,
          );
        }
        out.result(lines.join('\n'), { ok: true, ...s });
        return DONE;
      },
    },
    trust: {
      usage: 'trust <user>',
      session: 'login',
      args: 1,
      async run({ args, out }) {
        const dm = unlocked();
        if (!isEngine(dm)) return dm;
        const r = await dm.trust(args[0]!);
        if (!r.ok) return failed(r.error);
        const s = r.value;
        const text = s.changed
          ? `trusted ${s.username}'s new key; sending is unblocked. Safety number:\n${groups(s.safetyNumber)}`
          : `${s.username}'s key has not changed (nothing to trust). Safety number:\n${groups(s.safetyNumber)}`;
        out.result(text, { ok: true, ...s });
        return DONE;
      },
    },
    keylog: {
      usage: 'keylog',
      session: 'login',
      args: 0,
      async run({ out }) {
        const dm = unlocked();
        if (!isEngine(dm)) return dm;
        const checked = await dm.checkKeyLog();
        if (!checked.ok) return failed(checked.error);
        if (alarms.length) return failed({ code: 'KEY_NOT_LOGGED', message: `${alarms.length} key log alarm(s) above` });
        const state = dm.keyLogState();
        if (!state) return failed({ code: 'NO_KEYS', message: 'this device has seen no key log head yet' });
        const { head, publicKey } = state;
        out.result(
          [
            `key log: ${head.size} binding(s), none for ${dm.username} that this device did not publish`,
            `head: size ${head.size}, root ${head.root}, at ${new Date(head.at).toISOString()}`,
            `signature: ${head.signature}`,
            `log key: ${publicKey}`,
            '(a friend who prints a different root for the same size was shown another log: tell your administrator)',
          ].join('\n'),
          { ok: true, head, publicKey },
        );
        return DONE;
      },
    },
    devices: {
      usage: 'devices',
      session: 'login',
      args: 0,
      async run({ out }) {
        const dm = unlocked();
        if (!isEngine(dm)) return dm;
        const r = await dm.listDevices();
        if (!r.ok) return failed(r.error);
        const lines = r.value.map(
          (d) =>
            `${d.id}  ${safeLine(d.name)}  last used ${formatTime(d.lastSeen)}${d.online ? ', online' : ''}${d.current ? '  (this device)' : ''}`,
        );
        out.result(lines.join('\n') || 'no devices', { ok: true, devices: r.value });
        return DONE;
      },
    },
    'revoke-device': {
      usage: 'revoke-device <id>',
      session: 'login',
      args: 1,
      async run({ args, out }) {
        const dm = unlocked();
        if (!isEngine(dm)) return dm;
        const r = await dm.revokeDevice(args[0]!);
        if (!r.ok) return failed(r.error);
        out.result(`revoked device ${args[0]}: its sessions ended (if it was lost, change your password too)`, { ok: true });
        return DONE;
      },
    },
    'dm-export': {
      usage: 'dm-export',
      session: 'login',
      args: 0,
      async run({ out }) {
        const dm = unlocked();
        if (!isEngine(dm)) return dm;
        const r = dm.exportHistory();
        if (!r.ok) return failed(r.error);
        out.result(JSON.stringify(r.value, null, 2), r.value);
        return DONE;
      },
    },
    'dm-erase': {
      usage: 'dm-erase [user]',
      session: 'login',
      args: [0, 1],
      async run({ args, out }) {
        const dm = unlocked();
        if (!isEngine(dm)) return dm;
        const r = await dm.eraseHistory(args[0] ?? null);
        if (!r.ok) return failed(r.error);
        out.result(`erased ${r.value.erased} direct message(s)${args[0] ? ` with ${args[0]}` : ''} from this device`, { ok: true, ...r.value });
        return DONE;
      },
    },
  };

  return {
    commands,
    async onSession(ctx: CommandContext): Promise<CommandResult> {
      if (!DM_SESSION_COMMANDS.has(ctx.command)) return DONE;
      const { createNodeDmEngine } = await import('./dm/index.js');
      const policy = process.env[ICE_POLICY_ENV];
      engine = createNodeDmEngine(ctx.client, {
        rtcConfig: policy === 'relay' ? { iceTransportPolicy: 'relay' } : undefined,
        deviceName: `CLI on ${hostname()}`,
      });
      engine.on('keyChanged', (e) =>
        ctx.out.note(`warning: ${e.username}'s key changed; sending to them is blocked. Compare: safety ${e.username}; then: trust ${e.username}`),
      );
      engine.on('warning', (w) => ctx.out.note(`warning ${w.code}: ${w.message}`));
      engine.on('keyLogAlarm', (a) => {
        alarms.push(a);
        ctx.out.note(`ALARM (key log, ${a.kind}): ${a.message}`);
      });
      engine.on('identityCreated', (e) =>
        ctx.out.note(`created this device's direct-message keys (key id ${e.keyId})${e.replaced ? ', replacing ones this password cannot open' : ''}`),
      );
      const r = await engine.unlock(ctx.password);
      // Not fatal: room commands work without DM keys; DM commands answer LOCKED.
      if (!r.ok) ctx.out.note(`warning ${r.error.code}: ${r.error.message}`);
      return DONE;
    },
    onListen(ctx: CommandContext): void {
      engine?.on('received', (r) => ctx.out.event({ ev: 'dm', from: r.author, text: r.text, path: r.path, id: r.id, ts: r.ts }));
      engine?.on('status', (r) => {
        if (r.status === 'delivered') ctx.out.event({ ev: 'dmDelivered', to: r.peer, id: r.id });
        // listen sends nothing itself: a DM sent is one another of my devices sent (its copy).
        if (r.status === 'sent' && r.direction === 'out') ctx.out.event({ ev: 'dmSent', to: r.peer, text: r.text, id: r.id, ts: r.ts });
      });
      engine?.on('keyChanged', (e) => ctx.out.event({ ev: 'dmKeyChanged', username: e.username, blocked: true }));
      engine?.on('channel', (c) => ctx.out.event({ ev: 'dmChannel', username: c.username, state: c.state }));
      engine?.on('rejected', (r) => ctx.out.event({ ev: 'dmRejected', from: r.from, reason: r.reason, path: r.path }));
      engine?.on('keyLogAlarm', (a) => ctx.out.event({ ev: 'keyLogAlarm', kind: a.kind, username: a.username ?? null, message: a.message }));
    },
    async exportData() {
      if (engine?.state !== 'ready') return null;
      const r = engine.exportHistory();
      return r.ok ? { key: 'directMessages', data: r.value } : null;
    },
    async close(): Promise<void> {
      await engine?.close();
    },
  };
}
