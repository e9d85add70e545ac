/**
 * One attack of the abuse soak in a process of its own, started by prepareAttack (attacks.ts):
 * it lowers its priority, loads the attacks (a second of compiling, inside the window, used to
 * slow the first logins measured), says "ready", and attacks when told the window's deadline.
 *
 * On a real network the attacker's CPU (his key stretching of each login, his TLS handshakes)
 * is his own machine's; here it is one of the two cores the authority and the measuring clients
 * need. So the attack runs under SCHED_IDLE (chrt, every thread of the process): it gets only
 * the CPU nobody else wants, and the authority or a measuring client that wakes up takes the
 * core at once. And it runs in its own process, not a thread of the soak's: in one process, the
 * attacker's 32 MiB of Argon2id per login (page faults, mapping and unmapping memory) held the
 * address space's lock that the measuring clients' garbage collector needed, and their delivery
 * p99 tripled while the authority's CPU hardly moved (a thread at nice 19 doubled it). Its
 * requests per phase are in the table's last column; the ratios are the authority's costs.
 * Without chrt (not Linux), nice 19.
 */
import { execFileSync } from 'node:child_process';
import { setPriority } from 'node:os';
import type { AttackOrder } from './attacks.js';

const ATTACKER_NICE = 19;
try {
  execFileSync('chrt', ['--idle', '--all-tasks', '--pid', '0', String(process.pid)], { stdio: 'ignore' });
} catch {
  try {
    setPriority(process.pid, ATTACKER_NICE);
  } catch {
    // the attack competes at normal priority
  }
}

function next<T>(): Promise<T> {
  return new Promise((resolve) => process.once('message', (m) => resolve(m as T)));
}

// The soak gone (its IPC channel closed), the attack has nobody to report to: it stops.
process.once('disconnect', () => process.exit(0));
const { attack, ctx, attackers } = await next<AttackOrder>();
const { ATTACKS } = await import('./attacks.js');
const deadline = next<number>();
process.send!('ready');
const view = await ATTACKS[attack]({ ...ctx, deadline: await deadline, attacker: (n) => attackers[n]! });
process.send!(view, () => process.exit(0));
