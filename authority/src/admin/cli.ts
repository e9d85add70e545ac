/**
 * chandler-admin: runs one console command against a running authority through its control
 * socket (`npm run -s admin -- <command> [args…] [--data DIR]`). Prints the reply; exit code
 * 0 on success, 1 on any failure. Passwords for /change_password are typed here, without echo,
 * and sent over the owner-only socket; nothing is asked by the authority itself.
 */
import { connect } from 'node:net';
import { stderr, stdout } from 'node:process';
import { DEFAULT_DATA_DIR } from '../config.js';
import { CONTROL_WIRE_VERSION, ControlReply, controlSocketPath, type ControlRequest } from './control-wire.js';
import { readSecret, releaseInput } from '../../../terminal/prompt.js';

/** How long to wait for the authority's answer (a password hash takes well under this). */
const REPLY_TIMEOUT_MS = 60_000;
const MAX_REPLY_BYTES = 4 * 1024 * 1024;

const USAGE = `usage: npm run -s admin -- <command> [args…] [--data DIR]
  runs a console command on the authority that uses DIR (default ${DEFAULT_DATA_DIR}), e.g.
    npm run -s admin -- /show_clients
    npm run -s admin -- /kick bob 15m
    npm run -s admin -- /change_password bob --generate
    npm run -s admin -- /make_admin carol --yes
  npm run -s admin -- /help lists every command.`;

interface Invocation {
  dataDir: string;
  words: string[];
}

function parseArgv(argv: string[]): Invocation | string {
  let dataDir = DEFAULT_DATA_DIR;
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--data') {
      const v = argv[++i];
      if (v === undefined) return '--data needs a directory';
      dataDir = v;
    } else if (a.startsWith('--data=')) {
      dataDir = a.slice('--data='.length);
    } else if (words.length === 0 && (a === '--help' || a === '-h')) {
      return '';
    } else {
      words.push(a);
    }
  }
  if (words.length === 0) return '';
  return { dataDir, words };
}

function explain(err: NodeJS.ErrnoException, path: string, dataDir: string): string {
  switch (err.code) {
    case 'ENOENT':
      return `no authority is running on ${dataDir} (no control socket at ${path}); start it with npm start -- --data ${dataDir}`;
    case 'ECONNREFUSED':
      return `the authority on ${dataDir} is not running (${path} is left over from a stop that was not clean)`;
    case 'EACCES':
    case 'EPERM':
      return `permission denied on ${path}: only the account that runs the authority may use its control socket`;
    default:
      return `cannot reach the authority through ${path}: ${err.message}`;
  }
}

async function secretFor(words: string[]): Promise<string | undefined | null> {
  const isChange = /^\/?change_password$/i.test(words[0]!);
  if (!isChange || words.includes('--generate') || words.length < 2) return undefined;
  try {
    const first = await readSecret(`New password for ${words[1]}: `);
    const again = await readSecret('Again: ');
    if (first !== again) {
      stderr.write('error: the two passwords differ\n');
      return null;
    }
    return first;
  } catch {
    stderr.write('error: no password given (type it at the prompt, or use --generate)\n');
    return null;
  } finally {
    releaseInput();
  }
}

function send(path: string, request: ControlRequest): Promise<ControlReply> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    let data = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(Object.assign(new Error('the authority did not answer in time'), { code: 'ETIMEDOUT' }));
    }, REPLY_TIMEOUT_MS);
    socket.setEncoding('utf8');
    socket.once('connect', () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on('data', (chunk: string) => {
      data += chunk;
      if (data.length > MAX_REPLY_BYTES) socket.destroy(new Error('reply too large'));
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.once('end', () => {
      clearTimeout(timer);
      try {
        const reply = ControlReply.safeParse(JSON.parse(data.trim()));
        if (reply.success) resolve(reply.data);
        else reject(new Error('the authority sent a malformed reply'));
      } catch {
        reject(new Error('the authority closed the connection without a reply'));
      }
    });
  });
}

async function main(): Promise<number> {
  const inv = parseArgv(process.argv.slice(2));
  if (typeof inv === 'string') {
    stderr.write(inv ? `error: ${inv}\n${USAGE}\n` : `${USAGE}\n`);
    return 1;
  }
  const path = controlSocketPath(inv.dataDir);
  const secret = await secretFor(inv.words);
  if (secret === null) return 1;
  const request: ControlRequest = { v: CONTROL_WIRE_VERSION, words: inv.words, ...(secret !== undefined && { secret }) };
  let reply: ControlReply;
  try {
    reply = await send(path, request);
  } catch (err) {
    stderr.write(`error: ${explain(err as NodeJS.ErrnoException, path, inv.dataDir)}\n`);
    return 1;
  }
  (reply.ok ? stdout : stderr).write(`${reply.text}\n`);
  return reply.ok ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    stderr.write(`error: ${(err as Error)?.message ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
