/** The authority's settings: defaults, limits that are policy (not wire), and the command line. */
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { isLoopback, parseCidr } from './addresses.js';
import { canonicalOrigin } from './origins.js';
import { DEFAULT_OPAQUE_KSF, type OpaqueKsf } from '../../shared/protocol/index.js';

export const DEFAULT_PORT = 7443;
export const DEFAULT_HOST = '0.0.0.0';
export const DEFAULT_DATA_DIR = './data';
export const DEFAULT_BACKUP_TIME = '03:00';
export const DEFAULT_PASSWORD_MIN_SCORE = 3;
/** zxcvbn scores run from 0 (guessed at once) to 4 (very unguessable). */
const MAX_PASSWORD_SCORE = 4;

export interface IceServerConfig {
  urls: string | string[];
  username?: string;
  credential?: string;
}

export interface AuthorityConfig {
  host: string;
  port: number;
  dataDir: string;
  tls: boolean;
  /** Paths of a real certificate and key; a self-signed pair is made in the data dir otherwise. */
  certFile?: string;
  keyFile?: string;
  /** Directory of the built web client served at "/" (absent: a plain page says how to build it). */
  webRoot?: string;
  /** Handed to clients for WebRTC; empty on a LAN. */
  iceServers: IceServerConfig[];
  passwordMinLength: number;
  /**
   * The zxcvbn score (0–4) a new password needs: 3 refuses common passwords and words, keyboard rows,
   * dates and l33t of them; 0 turns the estimator off (length, symbol and pattern rules stay).
   */
  passwordMinScore: number;
  /** For the accounts made before OPAQUE, checked once at their next login (their migration). */
  scrypt: { N: number; r: number; p: number };
  /**
   * The key stretching clients run inside OPAQUE for new records (older records keep theirs).
   * 32 MiB and three passes of Argon2id: the memory of the scrypt of before (N=2^15, r=8), about
   * the same time (~0.1–0.2 s natively, a little more in a browser).
   */
  opaqueKsf: OpaqueKsf;
  hashWorkers: number;
  limits: {
    /** Per-socket send queue cap (bytes); past it the consumer is closed SLOW_CONSUMER. */
    sendQueueBytes: number;
    /** Failed logins per (account, address): a stranger guessing slows himself, not the owner. */
    loginFailuresPerAccount: number;
    /** Failed logins per account from addresses it never logged in from; its known addresses are not held by it. */
    loginFailuresPerAccountNewAddresses: number;
    loginFailuresPerIp: number;
    /** Wrong passwords per user in changePassword / deleteAccount (a stolen session guessing), per login window. */
    passwordChecksPerUser: number;
    loginWindowMs: number;
    registrationsPerIp: number;
    registrationWindowMs: number;
    /** Token bucket for room messages: sustained rate and burst per user. */
    messagesPerSecond: number;
    messageBurst: number;
    /** Token bucket for access and friend requests (each one notifies admins or a user): per minute and burst, per user. */
    requestsPerMinute: number;
    requestBurst: number;
    /**
     * Bytes of history (syncRooms, fetchHistory) a user may read per second, after a burst:
     * catching up after a week away fits in the burst; reading the same rooms in a loop does not.
     */
    readBytesPerSecond: number;
    readBurstBytes: number;
    connectionsPerIp: number;
    loginTimeoutMs: number;
    sessionIdleMs: number;
    signalsPerSecond: number;
    storedDmsPerRecipient: number;
    storedDmMaxAgeMs: number;
    /** Open TCP sockets per address, counted at accept (before TLS and HTTP); over it a socket is destroyed at once. */
    socketsPerIp: number;
    /** Open TCP sockets in all; by default the process's descriptor limit less a reserve for the database, backups and workers. */
    maxSockets: number;
    /** New sockets per second an address may open (a burst of newSocketBurstPerIp first). */
    newSocketsPerSecondPerIp: number;
    newSocketBurstPerIp: number;
    /** A TLS handshake must finish within this. */
    tlsHandshakeMs: number;
    /** A request's headers must arrive within this; the whole request within requestMs. */
    requestHeadersMs: number;
    requestMs: number;
    /** A socket that neither sends a request nor upgrades within this is closed. */
    firstRequestMs: number;
    /** An HTTP keep-alive socket idle this long after a response is closed. */
    keepAliveMs: number;
  };
  /**
   * Address ranges (CIDR) /ban never blocks: a NAT gateway, a terminal server, a VPN
   * concentrator. The console's own loopback address is never blocked either.
   */
  banExempt: string[];
  /**
   * Web origins besides the authority's own and the desktop app's whose pages may open a
   * WebSocket here (origins.ts), canonical: "https://intranet.example".
   */
  allowOrigins: string[];
  /** Daily online backup time, "HH:MM" local; null: no daily backup. */
  backupTime: string | null;
  /** Console on stdin when it is a terminal (or when forced). */
  console: boolean;
  quiet: boolean;
}

/** Descriptors kept for everything that is not a client socket (SQLite and its WAL, backups, logs, workers). */
const RESERVED_DESCRIPTORS = 200;

/**
 * The soft "Max open files" limit of this process (Linux: /proc/self/limits) less the reserve;
 * 800 where it cannot be read (a 1024-descriptor limit is the common default).
 */
function defaultMaxSockets(): number {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const soft = Number(line?.split(/\s{2,}/)[1]);
    if (Number.isInteger(soft) && soft > RESERVED_DESCRIPTORS * 2) return soft - RESERVED_DESCRIPTORS;
  } catch {
    // not Linux: the conservative default
  }
  return 800;
}

export function defaultConfig(overrides: Partial<AuthorityConfig> = {}): AuthorityConfig {
  const base: AuthorityConfig = {
    host: DEFAULT_HOST,
    port: DEFAULT_PORT,
    dataDir: DEFAULT_DATA_DIR,
    tls: true,
    iceServers: [],
    passwordMinLength: 12,
    passwordMinScore: DEFAULT_PASSWORD_MIN_SCORE,
    scrypt: { N: 1 << 15, r: 8, p: 1 },
    opaqueKsf: DEFAULT_OPAQUE_KSF,
    hashWorkers: 2,
    limits: {
      sendQueueBytes: 4 * 1024 * 1024,
      loginFailuresPerAccount: 5,
      loginFailuresPerAccountNewAddresses: 20,
      loginFailuresPerIp: 30,
      passwordChecksPerUser: 5,
      loginWindowMs: 15 * 60_000,
      registrationsPerIp: 20,
      registrationWindowMs: 60 * 60_000,
      messagesPerSecond: 20,
      messageBurst: 60,
      requestsPerMinute: 6,
      requestBurst: 10,
      // ~10 000 ordinary messages a second of catching up, after ~10 000 at once; the abuse soak's
      // reader at the old 4 MiB/s after 32 MiB (7 MB/s of 1 MB replies) doubled everyone's delivery
      // p99, and at 2 MiB/s after 8 MiB, the burst's replies back to back still tripled it.
      readBytesPerSecond: 2 * 1024 * 1024,
      readBurstBytes: 2 * 1024 * 1024,
      connectionsPerIp: 200,
      loginTimeoutMs: 60_000,
      sessionIdleMs: 30 * 24 * 3600_000,
      signalsPerSecond: 50,
      storedDmsPerRecipient: 1000,
      storedDmMaxAgeMs: 30 * 24 * 3600_000,
      socketsPerIp: 256,
      maxSockets: defaultMaxSockets(),
      // A floor behind one NAT address reconnecting after a restart: 100 at once, then 20 a second.
      newSocketsPerSecondPerIp: 20,
      newSocketBurstPerIp: 100,
      tlsHandshakeMs: 10_000,
      requestHeadersMs: 10_000,
      requestMs: 30_000,
      firstRequestMs: 15_000,
      keepAliveMs: 5_000,
    },
    banExempt: [],
    allowOrigins: [],
    backupTime: DEFAULT_BACKUP_TIME,
    console: false,
    quiet: false,
  };
  return { ...base, ...overrides, limits: { ...base.limits, ...overrides.limits } };
}

export type CommandLine =
  | { kind: 'serve'; config: AuthorityConfig }
  | { kind: 'createAdmin'; config: AuthorityConfig; username: string }
  | { kind: 'restore'; config: AuthorityConfig; file: string }
  | { kind: 'help'; text: string }
  | { kind: 'error'; message: string };

export const USAGE = `usage: npm start -- [--host ADDR] [--port N] [--data DIR] [--tls on|off]
                  [--cert FILE --key FILE] [--turn URL --turn-user U --turn-pass P]
                  [--backup-time HH:MM|off] [--ban-exempt CIDR,...] [--allow-origin URL,...]
                  [--password-min-score 0-4|off] [--console | --no-console]
                  [--create-admin NAME] [--restore BACKUP_FILE]`;

export function parseCommandLine(argv: string[], stdinIsTTY: boolean): CommandLine {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        data: { type: 'string' },
        tls: { type: 'string' },
        cert: { type: 'string' },
        key: { type: 'string' },
        turn: { type: 'string' },
        'turn-user': { type: 'string' },
        'turn-pass': { type: 'string' },
        web: { type: 'string' },
        console: { type: 'boolean' },
        'no-console': { type: 'boolean' },
        'create-admin': { type: 'string' },
        'backup-time': { type: 'string' },
        'ban-exempt': { type: 'string' },
        'allow-origin': { type: 'string' },
        restore: { type: 'string' },
        'password-min-score': { type: 'string' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    return { kind: 'error', message: `${(err as Error).message}\n${USAGE}` };
  }
  if (values.help) return { kind: 'help', text: USAGE };
  const port = values.port === undefined ? DEFAULT_PORT : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    return { kind: 'error', message: `--port must be 0–65535, got ${JSON.stringify(values.port)}` };
  }
  if (values.tls !== undefined && values.tls !== 'on' && values.tls !== 'off') {
    return { kind: 'error', message: '--tls takes on or off' };
  }
  const tls = values.tls !== 'off';
  const host = values.host ?? (tls ? DEFAULT_HOST : '127.0.0.1');
  if (!tls && !isLoopback(host)) {
    return { kind: 'error', message: `--tls off is allowed only on a loopback address, not ${host}` };
  }
  if ((values.cert === undefined) !== (values.key === undefined)) {
    return { kind: 'error', message: '--cert and --key go together' };
  }
  const backupTime = values['backup-time'] ?? DEFAULT_BACKUP_TIME;
  if (backupTime !== 'off' && !/^([01]?\d|2[0-3]):[0-5]\d$/.test(backupTime)) {
    return { kind: 'error', message: '--backup-time takes HH:MM (24 h, local time) or off' };
  }
  const minScoreText = values['password-min-score'] ?? String(DEFAULT_PASSWORD_MIN_SCORE);
  const passwordMinScore = minScoreText === 'off' ? 0 : Number(minScoreText);
  if (!/^\d$|^off$/.test(minScoreText) || passwordMinScore > MAX_PASSWORD_SCORE) {
    return { kind: 'error', message: `--password-min-score takes 0 to ${MAX_PASSWORD_SCORE}, or off (0: no estimator)` };
  }
  const banExempt = (values['ban-exempt'] ?? '').split(',').map((c) => c.trim()).filter(Boolean);
  const badRange = banExempt.find((c) => parseCidr(c) === null);
  if (badRange !== undefined) return { kind: 'error', message: `--ban-exempt takes CIDR ranges (10.0.0.0/8,fd00::/8), not ${badRange}` };
  const origins = (values['allow-origin'] ?? '').split(',').map((o) => o.trim()).filter(Boolean);
  const allowOrigins = origins.map(canonicalOrigin);
  const badOrigin = origins.find((_, i) => allowOrigins[i] === null);
  if (badOrigin !== undefined) {
    return { kind: 'error', message: `--allow-origin takes origins (https://intranet.example:8443), not ${badOrigin}` };
  }
  const iceServers: IceServerConfig[] = values.turn
    ? [{ urls: values.turn, username: values['turn-user'], credential: values['turn-pass'] }]
    : [];
  const config = defaultConfig({
    host,
    port,
    dataDir: values.data ?? DEFAULT_DATA_DIR,
    tls,
    certFile: values.cert,
    keyFile: values.key,
    webRoot: values.web,
    iceServers,
    console: values['no-console'] ? false : (values.console ?? stdinIsTTY),
    quiet: values.quiet ?? false,
    backupTime: backupTime === 'off' ? null : backupTime,
    banExempt,
    allowOrigins: allowOrigins as string[],
    passwordMinScore,
  });
  if (values.restore !== undefined) return { kind: 'restore', config, file: values.restore };
  if (values['create-admin'] !== undefined) {
    return { kind: 'createAdmin', config, username: values['create-admin'] };
  }
  return { kind: 'serve', config };
}
