/**
 * One attack of the abuse soak in a thread of its own: its loops (thousands of requests a second)
 * would otherwise share the event loop that times the well-behaved clients, and the soak would
 * measure the attacker's own lag. Started by prepareAttack (attacks.ts) through the TS worker
 * loader before the phase's window: it lowers its priority, loads the attacks (a second of
 * compiling at full priority, inside the window, used to slow the first logins measured), says
 * "ready", and attacks when told the window's deadline.
 */
import { execFileSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import type { AttackContext, AttackName } from './attacks.js';

/**
 * On a real network the attacker's CPU (his key stretching of each guess, his TLS handshakes)
 * is his own machine's; here it is one of the two cores the authority and the measuring clients
 * need. The attack thread runs under SCHED_IDLE (chrt): it gets only the CPU nobody else wants,
 * and the authority or a measuring client that wakes up takes the core at once. At nice 19,
 * which still shares each core by weight, the attacker's own work (a core of it in the password
 * and flood phases) doubled the measuring clients' delivery p99 while the authority's CPU did
 * not move. Its requests per phase are in the table's last column; the ratios are the
 * authority's costs. Without chrt (not Linux), nice 19.
 */
const ATTACKER_NICE = 19;
const tid = (() => {
  try {
    return Number(readlinkSync('/proc/thread-self').split('/').pop());
  } catch {
    return null;
  }
})();
try {
  if (tid === null) throw new Error('no thread id');
  execFileSync('chrt', ['--idle', '--pid', '0', String(tid)], { stdio: 'ignore' });
} catch {
  try {
    setPriority(tid ?? 0, ATTACKER_NICE);
  } catch {
    // the attack competes at normal priority
  }
}

const { attack, ctx, attackers } = workerData as {
  attack: AttackName;
  ctx: Omit<AttackContext, 'attacker' | 'deadline'>;
  attackers: string[];
};
const { ATTACKS } = await import('./attacks.js');
const deadline = await new Promise<number>((resolve) => {
  parentPort!.once('message', (d: number) => resolve(d));
  parentPort!.postMessage('ready');
});
const view = await ATTACKS[attack]({ ...ctx, deadline, attacker: (n) => attackers[n]! });
parentPort!.postMessage(view);
