/**
 * A connection's frames, at most FRAMES_PER_TURN handled per event-loop turn. Hundreds of
 * requests pipelined in one write arrive in one read, and were all handled in that read's turn
 * (400 small ones held every other socket ~80 ms). Past the budget the frames wait for the next
 * turn and the socket stops being read until they are handled (TCP pushes back on the sender);
 * a client that sends a few frames per turn (every real one, the durable bench's senders) is
 * handled at once, so the group commit still sees a turn's messages together.
 */
import type { RawData, WebSocket } from 'ws';

export const FRAMES_PER_TURN = 32;

/** A counter that moves on once per event-loop turn in which someone asked for it. */
let turn = 0;
let turnScheduled = false;
function currentTurn(): number {
  if (!turnScheduled) {
    turnScheduled = true;
    setImmediate(() => {
      turnScheduled = false;
      turn++;
    });
  }
  return turn;
}

export class Inbox {
  private turnSeen = -1;
  private handledThisTurn = 0;
  private readonly backlog: [RawData, boolean][] = [];
  private drainScheduled = false;

  constructor(
    private readonly ws: WebSocket,
    private readonly handle: (data: RawData, isBinary: boolean) => void,
    private readonly perTurn = FRAMES_PER_TURN,
  ) {}

  push(data: RawData, isBinary: boolean): void {
    if (this.backlog.length === 0 && this.take()) return this.handle(data, isBinary);
    this.backlog.push([data, isBinary]);
    if (this.backlog.length === 1) this.ws.pause();
    this.scheduleDrain();
  }

  /** True when one more frame fits this turn's budget (and counts it). */
  private take(): boolean {
    const now = currentTurn();
    if (now !== this.turnSeen) {
      this.turnSeen = now;
      this.handledThisTurn = 0;
    }
    if (this.handledThisTurn >= this.perTurn) return false;
    this.handledThisTurn++;
    return true;
  }

  private scheduleDrain(): void {
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    setImmediate(() => this.drain());
  }

  private drain(): void {
    this.drainScheduled = false;
    if (this.ws.readyState !== this.ws.OPEN) {
      this.backlog.length = 0; // closed: nothing will answer them
      return;
    }
    while (this.backlog.length > 0 && this.take()) {
      const [data, isBinary] = this.backlog.shift()!;
      this.handle(data, isBinary);
    }
    if (this.backlog.length > 0) this.scheduleDrain();
    else this.ws.resume();
  }
}
