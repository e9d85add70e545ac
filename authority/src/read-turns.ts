/**
 * Requests that build large replies (a history page, a syncRooms answer: up to
 * LIMITS.maxReplyBytes each) take turns on the event loop: one per turn, round robin over users.
 * Without it, 30 such requests sent in one burst (they arrive in one read) were each built and
 * written in the same turn, and every other user's messages waited ~250 ms behind them; with it,
 * the socket reads, acknowledgements and fan-out of everyone else run between two of them, and a
 * user who asks for ten pages waits behind no one's tenth page but their own.
 */
/**
 * Large-reply requests one user may have waiting for their turn: more than any client pipelines
 * (the client core asks one page at a time per room), few enough that a burst is not queued whole.
 */
export const READS_WAITING_PER_USER = 16;

export class ReadTurns {
  /** Waiting turns by user; the Map's order is the ring (a user served goes to its end). */
  private readonly waiting = new Map<number, (() => void)[]>();
  /** Served turns still held by user (a reply waiting for its connection to drain: see hold()). */
  private readonly held = new Map<number, number>();
  private scheduled = false;

  constructor(
    /** Turns one user may wait for at once; past it the request is refused (take() gives null). */
    private readonly maxWaitingPerUser: number,
  ) {}

  /** Resolves at the user's next turn; null when the user already waits for as many as allowed. */
  take(user: number): Promise<void> | null {
    const queue = this.waiting.get(user) ?? [];
    if (queue.length + (this.held.get(user) ?? 0) >= this.maxWaitingPerUser) return null;
    this.waiting.set(user, queue);
    const turn = new Promise<void>((resolve) => queue.push(resolve));
    this.schedule();
    return turn;
  }

  /**
   * Counts one more request of the user's against the cap until the returned release is called:
   * a request that had its turn and now waits for something else (its connection's send queue to
   * drain) still holds a place, so that waiting elsewhere is bounded as well.
   */
  hold(user: number): () => void {
    this.held.set(user, (this.held.get(user) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = this.held.get(user)! - 1;
      if (left > 0) this.held.set(user, left);
      else this.held.delete(user);
    };
  }

  /** Users with turns waiting. */
  get users(): number {
    return this.waiting.size;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.serveOne());
  }

  private serveOne(): void {
    this.scheduled = false;
    const next = this.waiting.entries().next();
    if (next.done) return;
    const [user, queue] = next.value;
    this.waiting.delete(user);
    const resolve = queue.shift()!;
    if (queue.length > 0) this.waiting.set(user, queue);
    resolve(); // the handler goes on in this turn's microtasks, before the next turn
    if (this.waiting.size > 0) this.schedule();
  }
}
