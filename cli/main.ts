/**
 * The CHandler command-line client, for scripts, bots and smoke tests:
 *   npm run -s cli -- [--url wss://HOST:PORT] [--fingerprint HEX | --trust] [--home DIR] --user NAME [--json] <command> [args]
 * --home (or CHANDLER_HOME; default ~/.chandler): where this device keeps known hosts, DM keys and
 * history, so that one machine can be two devices of one user.
 * Password from CHANDLER_PASSWORD or a no-echo prompt (for register and reset-password, the new one).
 * Failure: exit 1 and `error CODE: message` on stderr.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ChandlerClient } from '../shared/client/index.js';
import { normalizeFingerprint } from '../shared/protocol/index.js';
import { COMMANDS, type CliPlugin, type Command, type CommandContext } from './commands.js';
import { dmPlugin } from './dm-commands.js';
import { knownFingerprint, rememberFingerprint } from './known-hosts.js';
import { pinnedSocketFactory } from './node-socket.js';
import { Output } from './output.js';
import { readSecret } from '../terminal/prompt.js';
import { useScrypt } from '../shared/crypto/index.js';
import { nativeScrypt } from './native-scrypt.js';

export const DEFAULT_URL = 'wss://localhost:7443';
export const PASSWORD_ENV = 'CHANDLER_PASSWORD';
const CLIENT_VERSION = 'chandler-cli/2';

/** Plug-ins add commands (the DM engine registers its own here). */
export const PLUGINS: CliPlugin[] = [dmPlugin()];

function usage(): string {
  const all = { ...COMMANDS, ...Object.assign({}, ...PLUGINS.map((p) => p.commands)) } as Record<string, Command>;
  return [
    'usage: npm run -s cli -- [--url wss://HOST:PORT] [--fingerprint HEX | --trust] [--home DIR] --user NAME [--json] <command>',
    'commands:',
    ...Object.values(all).map((c) => `  ${c.usage}`),
  ].join('\n');
}

/** Accepts `host:port`, `wss://host:port` or a full `…/ws` URL. */
export function normalizeUrl(text: string): URL | null {
  try {
    const url = new URL(/^wss?:\/\//.test(text) ? text : `wss://${text}`);
    if (url.protocol !== 'wss:' && url.protocol !== 'ws:') return null;
    if (url.pathname === '/' || url.pathname === '') url.pathname = '/ws';
    return url;
  } catch {
    return null;
  }
}

useScrypt(nativeScrypt);

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        url: { type: 'string' },
        fingerprint: { type: 'string' },
        trust: { type: 'boolean' },
        home: { type: 'string' },
        user: { type: 'string', short: 'u' },
        json: { type: 'boolean' },
        before: { type: 'string' },
        limit: { type: 'string' },
        for: { type: 'string' },
        out: { type: 'string' },
        yes: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    new Output(false).error('USAGE', `${(err as Error).message}\n${usage()}`);
    return 1;
  }
  const { values, positionals } = parsed;
  // Read wherever the device's files are (known hosts, DM keys and history): chandlerHome().
  if (values.home !== undefined) process.env.CHANDLER_HOME = resolve(values.home);
  const out = new Output(values.json ?? false);
  const [name, ...args] = positionals;
  if (values.help || !name) {
    if (!name && !values.help) {
      out.error('USAGE', `no command given\n${usage()}`);
      return 1;
    }
    process.stdout.write(`${usage()}\n`);
    return 0;
  }
  const commands: Record<string, Command> = { ...COMMANDS };
  for (const p of PLUGINS) Object.assign(commands, p.commands);
  const command = Object.hasOwn(commands, name) ? commands[name]! : null;
  if (!command) {
    out.error('USAGE', `unknown command ${JSON.stringify(name)}\n${usage()}`);
    return 1;
  }
  const [min, max] = typeof command.args === 'number' ? [command.args, command.args] : command.args;
  if (args.length < min || args.length > max) {
    out.error('USAGE', `usage: ${command.usage}`);
    return 1;
  }
  const numbers: CommandContext['options'] = {};
  for (const key of ['before', 'limit', 'for'] as const) {
    const v = values[key];
    if (v === undefined) continue;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) {
      out.error('USAGE', `--${key} takes a whole number`);
      return 1;
    }
    numbers[key] = n;
  }
  if (!values.user) {
    out.error('USAGE', '--user NAME is required');
    return 1;
  }
  const url = normalizeUrl(values.url ?? process.env.CHANDLER_URL ?? DEFAULT_URL);
  if (!url) {
    out.error('USAGE', '--url must look like wss://HOST:PORT');
    return 1;
  }

  // Certificate pinning: an explicit fingerprint, else the remembered one, else --trust (TOFU), else refuse.
  let pinned: string | null = null;
  if (values.fingerprint !== undefined) {
    pinned = normalizeFingerprint(values.fingerprint);
    if (!pinned) {
      out.error('USAGE', '--fingerprint takes the SHA-256 fingerprint printed by the authority (64 hex digits)');
      return 1;
    }
  } else if (url.protocol === 'wss:') {
    pinned = knownFingerprint(url);
  }
  let seen: string | null = null;
  const trustOnFirstUse = url.protocol === 'wss:' && pinned === null;
  if (trustOnFirstUse && !values.trust) {
    // Connect only far enough to read the certificate, then refuse, saying how to trust it.
    pinned = 'refuse-unknown-certificate';
  }
  const client = new ChandlerClient({
    url: url.href,
    socketFactory: pinnedSocketFactory({ fingerprint: pinned, onCertificate: (fp) => (seen = fp) }),
    clientVersion: CLIENT_VERSION,
  });

  const prompt = `${command.session === 'reset' ? 'New password' : 'Password'} for ${values.user}: `;
  const password = process.env[PASSWORD_ENV] ?? (await promptPassword(prompt, out));
  if (password === null) return 1;
  const auth =
    command.session === 'register'
      ? await client.register(values.user, password)
      : command.session === 'reset'
        ? await client.resetPassword(values.user, args[0]!, password)
        : await client.login(values.user, password);
  if (!auth.ok) {
    client.close();
    if (auth.error.code === 'CERT_MISMATCH' && seen) {
      if (trustOnFirstUse) {
        out.error(
          'CERT_UNKNOWN',
          `the authority at ${url.host} presents an unknown certificate, SHA-256 fingerprint\n  ${seen}\n` +
            `Compare it with the fingerprint the authority printed when it started. If they match, run again with --trust ` +
            `(remembered in known_hosts) or --fingerprint ${seen}`,
        );
      } else {
        out.error(
          'CERT_MISMATCH',
          `the authority at ${url.host} presents certificate ${seen}, not the pinned ${pinned}.\n` +
            `Someone may be intercepting the connection, or the server got a new certificate. Ask your IT team before trusting it.`,
        );
      }
      return 1;
    }
    out.error(auth.error.code, auth.error.message + (auth.error.until ? ` (until ${new Date(auth.error.until).toISOString()})` : ''));
    return 1;
  }
  if (trustOnFirstUse && values.trust && seen) {
    rememberFingerprint(url, seen);
    out.note(`trusted ${url.host} with certificate fingerprint ${seen} (saved in known_hosts)`);
  }

  const options = { ...numbers, out: values.out, yes: values.yes };
  const server = { url, fingerprint: seen ?? pinned };
  const ctx: CommandContext = { command: name, client, args, options, out, password, plugins: PLUGINS, server };
  try {
    for (const p of PLUGINS) {
      const r = await p.onSession?.(ctx);
      if (r && !r.ok) {
        out.error(r.error.code, r.error.message);
        return 1;
      }
    }
    const r = await command.run(ctx);
    if (!r.ok) {
      out.error(r.error.code, r.error.message + (r.error.until ? ` (until ${new Date(r.error.until).toISOString()})` : ''));
      return 1;
    }
    return 0;
  } finally {
    for (const p of PLUGINS) await p.close?.();
    client.close();
  }
}

async function promptPassword(prompt: string, out: Output): Promise<string | null> {
  try {
    return await readSecret(prompt);
  } catch {
    out.error('USAGE', `no password: type it at the prompt or set ${PASSWORD_ENV}`);
    return null;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`error INTERNAL: ${(err as Error)?.message ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
