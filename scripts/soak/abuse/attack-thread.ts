/**
 * One attack of the abuse soak in a thread of its own: its loops (thousands of requests a second)
 * would otherwise share the event loop that times the well-behaved clients, and the soak would
 * measure the attacker's own lag. Started by runAttack (attacks.ts) through the TS worker loader.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ATTACKS, type AttackContext, type AttackName } from './attacks.js';

const { attack, ctx, attackers } = workerData as {
  attack: AttackName;
  ctx: Omit<AttackContext, 'attacker'>;
  attackers: string[];
};
const view = await ATTACKS[attack]({ ...ctx, attacker: (n) => attackers[n]! });
parentPort!.postMessage(view);
