/** The running server: live connections, what the process runs (/threads), graceful stop. */
import { basename } from 'node:path';
import { loopMonitor } from '../loop-monitor.js';
import { bytes, cell, duration, localTime, plural, table } from './format.js';
import { done, usage, type Command } from './types.js';

/** Room names listed per connection in /show_clients before "…". */
const ROOMS_SHOWN_CHARS = 32;

const showClients: Command = {
  name: 'show_clients',
  args: [],
  summary: 'live connections, traffic, send queues',
  run({ services: s }) {
    const roomNames = new Map(s.store.rooms.all().map((r) => [r.id, r.name]));
    const now = s.now();
    const conns = [...s.hub.connections].sort(
      (a, b) => (a.user?.username ?? '\uffff').localeCompare(b.user?.username ?? '\uffff') || a.id - b.id,
    );
    if (conns.length === 0) return done('no live connection');
    const rows = conns.map((c) => {
      const rooms = c.user?.admin
        ? `all ${c.rooms.size} (admin)`
        : cell([...c.rooms].map((id) => roomNames.get(id) ?? `#${id}`).join(','), ROOMS_SHOWN_CHARS);
      return [
        c.id,
        c.user ? c.user.username : `(${c.state})`,
        c.ip,
        `${localTime(c.since).slice(11)} (${duration(now - c.since)})`,
        rooms || '-',
        c.clientVersion || '-',
        c.messagesIn,
        c.messagesOut,
        bytes(c.queueDepth()),
      ];
    });
    const users = new Set(conns.filter((c) => c.user).map((c) => c.user!.id)).size;
    return done(
      `${table(['ID', 'USER', 'ADDRESS', 'SINCE', 'ROOMS', 'CLIENT', 'IN', 'OUT', 'QUEUE'], rows)}\n` +
        `${plural(conns.length, 'connection')}, ${plural(users, 'user')}`,
    );
  },
};

function percent(x: number): string {
  return `${(x * 100).toFixed(1)} %`;
}

function ms(x: number): string {
  return `${x.toFixed(x < 10 ? 2 : 0)} ms`;
}

const threads: Command = {
  name: 'threads',
  args: [],
  summary: 'event loop, workers, queues, timers',
  run({ services: s }) {
    const loop = loopMonitor().sample();
    const mem = process.memoryUsage();
    const pool = s.passwords.stats();
    const commit = s.committer.stats;
    const conns = [...s.hub.connections];
    const authed = conns.filter((c) => c.user).length;
    const queued = conns.reduce((n, c) => n + c.queueDepth(), 0);
    const handles = new Map<string, number>();
    for (const h of process.getActiveResourcesInfo()) handles.set(h, (handles.get(h) ?? 0) + 1);

    const lines: string[] = [];
    lines.push(
      `process      pid ${process.pid}, node ${process.version}, up ${duration(Date.now() - s.startedAt)}, ` +
        `memory ${bytes(mem.rss)} (heap ${bytes(mem.heapUsed)} of ${bytes(mem.heapTotal)})`,
    );
    lines.push(
      `event loop   lag mean ${ms(loop.lagMeanMs)}, p99 ${ms(loop.lagP99Ms)}, max ${ms(loop.lagMaxMs)}; ` +
        `busy ${percent(loop.utilisation)} over the last ${duration(loop.windowMs)}, ${percent(loop.utilisationSinceStart)} since start`,
    );
    lines.push(
      `main thread  ${plural(conns.length, 'connection')} (${authed} logged in), send queues ${bytes(queued)}; ` +
        `frames ${s.counters.framesIn} in, ${s.counters.badFrames} malformed, ${s.counters.handlerErrors} handler errors`,
    );
    lines.push(
      `group commit ${s.committer.queued} queued; ${plural(commit.batches, 'batch', 'batches')}, ${plural(commit.messages, 'message')}, ` +
        `largest batch ${commit.largestBatch}, last ${commit.lastBatchSize}`,
    );
    const b = s.backups;
    const last = b.lastResult ? `last ${basename(b.lastResult.file)} (${bytes(b.lastResult.bytes)}, ${b.lastResult.ms} ms)` : 'no backup yet';
    lines.push(
      `backups      on the main thread in small steps; ${last}` +
        `${b.lastError ? `; last error: ${b.lastError}` : ''}; next daily ${b.nextRunAt ? localTime(b.nextRunAt) : 'not scheduled'}`,
    );
    lines.push('');
    lines.push(`worker threads: password hashing (scrypt), ${plural(pool.workers.length, 'worker')}, ${pool.queued} job(s) queued`);
    lines.push(
      table(
        ['THREAD', 'KIND', 'IN FLIGHT', 'DONE'],
        pool.workers.map((w) => [w.threadId, 'scrypt', w.inFlight, w.done]),
      ),
    );
    lines.push('');
    lines.push('readers per room:');
    lines.push(table(['ROOM', 'CONNECTIONS'], s.store.rooms.all().map((r) => [r.name, s.hub.readersOf(r.id).size])));
    const anonymous = conns.filter((c) => c.state === 'anonymous').length;
    lines.push('');
    lines.push('timers:');
    lines.push(
      table(
        ['TIMER', 'EVERY'],
        [
          ...s.periodicJobs().map((j) => [j.name, duration(j.everyMs)]),
          ...(b.nextRunAt ? [[`daily backup (next ${localTime(b.nextRunAt)})`, '1 d']] : []),
          [`login deadline of each connection not logged in yet (${anonymous} now)`, 'once'],
        ],
      ),
    );
    lines.push('');
    lines.push('libuv handles keeping the process alive:');
    lines.push(table(['KIND', 'COUNT'], [...handles.entries()].sort((a, b) => b[1] - a[1])));
    return done(lines.join('\n'));
  },
};

const shutdown: Command = {
  name: 'shutdown',
  aliases: ['kill'],
  args: [],
  summary: 'graceful stop, then exit 0',
  run(ctx, { args }) {
    if (args.length !== 0) return usage(shutdown);
    ctx.shutdown('server stopped by an administrator');
    return done('stopping: clients are told, pending messages are committed, then the authority exits');
  },
};

export const SERVER_COMMANDS: readonly Command[] = [showClients, threads, shutdown];
