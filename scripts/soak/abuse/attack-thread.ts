/**
 * One attack of the abuse soak in a thread of its own: its loops (thousands of requests a second)
 * would otherwise share the event loop that times the well-behaved clients, and the soak would
 * measure the attacker's own lag. Started by prepareAttack (attacks.ts) through the TS worker
 * loader before the phase's window: it lowers its priority, loads the attacks (a second of
 * compiling at full priority, inside the window, used to slow the first logins measured), says
 * "ready", and attacks when told the window's deadline.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import type { AttackContext, AttackName } from './attacks.js';

/**
 * On a real network the attacker's CPU (his key stretching of each guess included) is his own
 * machine's; here it is one of the two cores the authority and the measuring clients need. At
 * nice 19 the attack uses what they leave (its requests per phase are in the table's last
 * column), so the ratios are the authority's costs.
 */
const ATTACKER_NICE = 19;
try {
  setPriority(Number(readlinkSync('/proc/thread-self').split('/').pop()), ATTACKER_NICE);
} catch {
  // not Linux: the attack competes at normal priority
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
