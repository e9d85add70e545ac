/**
 * One attack of the abuse soak in a thread of its own: its loops (thousands of requests a second)
 * would otherwise share the event loop that times the well-behaved clients, and the soak would
 * measure the attacker's own lag. Started by runAttack (attacks.ts) through the TS worker loader.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { ATTACKS, type AttackContext, type AttackName } from './attacks.js';

/**
 * On a real network the attacker's CPU is his own machine's; here it is one of the two cores the
 * authority and the measuring clients need. At nice 19 the attack uses what they leave (its
 * requests per phase are in the table's last column), so the ratios are the authority's costs.
 */
const ATTACKER_NICE = 19;
try {
  setPriority(Number(readlinkSync('/proc/thread-self').split('/').pop()), ATTACKER_NICE);
} catch {
  // not Linux: the attack competes at normal priority
}

const { attack, ctx, attackers } = workerData as {
  attack: AttackName;
  ctx: Omit<AttackContext, 'attacker'>;
  attackers: string[];
};
const view = await ATTACKS[attack]({ ...ctx, attacker: (n) => attackers[n]! });
parentPort!.postMessage(view);
