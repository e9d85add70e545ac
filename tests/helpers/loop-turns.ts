/**
 * Counts event-loop turns with a setImmediate chain, for tests that check what the authority
 * (in this process) does in one turn and what it leaves for the next.
 */
export interface LoopTurns {
  /** Turns counted since the start. */
  readonly now: number;
  stop(): void;
}

export function countLoopTurns(): LoopTurns {
  let turn = 0;
  let counting = true;
  const tick = () => {
    turn++;
    if (counting) setImmediate(tick);
  };
  setImmediate(tick);
  return {
    get now() {
      return turn;
    },
    stop: () => {
      counting = false;
    },
  };
}
