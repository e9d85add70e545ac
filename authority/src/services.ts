/**
 * The authority's services: the store, the hub of live connections, the password workers, the
 * group commit, backups, throttles, the audit trail and the frame counters. What handlers reach
 * (Services) and what the admin surfaces reach beyond it, minus the transport: the running
 * Authority (server.ts) adds the HTTP/WebSocket side on top. It owns their lifetimes:
 * `beginShutdown` refuses new work and commits what is queued, `closeServices` closes them in order.
 */
import { readFileSync } from 'node:fs';
import type { AuthorityConfig } from './config.js';
import type { Actor, FrameCounters, Services } from './context.js';
import { BackupManager } from './backup.js';
import { MessageCommitter } from './committer.js';
import { Hub } from './hub.js';
import { KeyLog } from './key-log.js';
import { loadOpaqueSetup } from './opaque-setup.js';
import { Logger } from './log.js';
import { PasswordPool } from './passwords.js';
import { READS_WAITING_PER_USER, ReadTurns } from './read-turns.js';
import { Store } from './store/index.js';
import { KeyedBuckets, WindowCounter } from './throttle.js';

const PACKAGE = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

export class AuthorityServices implements Services {
  readonly store: Store;
  readonly hub = new Hub();
  readonly passwords: PasswordPool;
  readonly opaqueSetup: Promise<string>;
  readonly keyLog: KeyLog;
  readonly committer: MessageCommitter;
  readonly backups: BackupManager;
  readonly throttles;
  readonly readTurns = new ReadTurns(READS_WAITING_PER_USER);
  readonly serverVersion = PACKAGE.version;
  readonly startedAt = Date.now();
  readonly counters: FrameCounters = { framesIn: 0, badFrames: 0, handlerErrors: 0 };
  private shuttingDown = false;

  constructor(
    readonly config: AuthorityConfig,
    readonly log: Logger = new Logger(config.quiet),
  ) {
    this.store = Store.openInDir(config.dataDir);
    for (const f of this.store.modesFixed) {
      this.log.warn('file_mode_fixed', { path: f.path, was: f.was, now: 'owner only', why: 'others could read it' });
    }
    if (!this.store.audit.anchored) {
      this.log.error('audit_key_missing', { why: 'the audit log cannot be checked against rewriting; /audit verify says so' });
    }
    try {
      this.keyLog = new KeyLog(this.store, config.dataDir);
    } catch (err) {
      this.store.close(); // a missing log key: nothing else was started
      throw err;
    }
    this.opaqueSetup = loadOpaqueSetup(config.dataDir, this.store.users.loginCounts().opaque);
    this.opaqueSetup.catch(() => undefined); // a write that failed: the first login reports it
    this.passwords = new PasswordPool(config.hashWorkers, config.scrypt);
    this.committer = new MessageCommitter(this.store, this.hub, this.log);
    this.backups = new BackupManager(this.store, config.dataDir);
    const l = config.limits;
    this.throttles = {
      loginPerAccountIp: new WindowCounter(l.loginFailuresPerAccount, l.loginWindowMs),
      loginPerAccount: new WindowCounter(l.loginFailuresPerAccountNewAddresses, l.loginWindowMs),
      loginPerIp: new WindowCounter(l.loginFailuresPerIp, l.loginWindowMs),
      registerPerIp: new WindowCounter(l.registrationsPerIp, l.registrationWindowMs),
      passwordChecksPerUser: new WindowCounter(l.passwordChecksPerUser, l.loginWindowMs),
      messagesPerUser: new KeyedBuckets(l.messagesPerSecond, l.messageBurst),
      requestsPerUser: new KeyedBuckets(l.requestsPerMinute / 60, l.requestBurst),
      readBytesPerUser: new KeyedBuckets(l.readBytesPerSecond, l.readBurstBytes),
    };
  }

  now(): number {
    return Date.now();
  }

  isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  audit(actor: Actor, action: string, target: string | null, detail?: string): void {
    const row = this.store.audit.append({
      ts: this.now(),
      actor: actor.name,
      origin: actor.origin,
      action,
      target,
      detail: detail ?? null,
    });
    // The head goes to the log too: a copy outside the data dir that rewriting the files cannot reach.
    this.log.info('audit', {
      id: row.id,
      by: actor.name,
      from: actor.origin,
      action,
      target: target ?? undefined,
      head: `${row.id}:${row.hash}`,
    });
  }

  /** Periodic upkeep: throttles, idle sessions, expired stored DMs. */
  sweep(): void {
    const now = Date.now();
    for (const t of Object.values(this.throttles)) t.sweep(now);
    this.store.users.expireSessions(now - this.config.limits.sessionIdleMs);
    this.store.dms.expire(now - this.config.limits.storedDmMaxAgeMs);
    // A device not seen for as long as an envelope is kept has nothing waiting: not waited for.
    this.store.devices.forgetUnseen(now - this.config.limits.storedDmMaxAgeMs);
  }

  /** The first step of a graceful stop: refuse new work, commit what is queued, send what is framed. */
  protected beginShutdown(): void {
    this.shuttingDown = true;
    this.backups.stop();
    this.committer.flush();
    this.hub.flush();
  }

  /** The last step, once the sockets are closed: commit what came meanwhile, close the store and the workers. */
  protected async closeServices(): Promise<void> {
    this.committer.flush();
    this.store.close();
    await this.passwords.close();
  }
}
