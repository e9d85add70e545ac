/** The turns of large-reply requests (authority/src/read-turns.ts): one per loop turn, round robin, bounded per user. */
import { describe, expect, it } from 'vitest';
import { ReadTurns } from '../../authority/src/read-turns.js';
import { countLoopTurns } from '../helpers/loop-turns.js';

describe('ReadTurns', () => {
  it('serves one turn per event-loop turn, round robin over users, and refuses past the cap per user', async () => {
    const turns = new ReadTurns(3);
    const loop = countLoopTurns();
    const served: string[] = [];
    const at: number[] = [];
    const wait = (user: number, label: string) => {
      const turn = turns.take(user);
      expect(turn, label).not.toBeNull();
      return turn!.then(() => {
        served.push(label);
        at.push(loop.now);
      });
    };
    const all = [wait(1, 'a1'), wait(1, 'a2'), wait(1, 'a3'), wait(2, 'b1'), wait(3, 'c1'), wait(3, 'c2')];
    expect(turns.take(1)).toBeNull(); // a already waits for three
    expect(turns.users).toBe(3);
    await Promise.all(all);
    loop.stop();
    expect(served).toEqual(['a1', 'b1', 'c1', 'a2', 'c2', 'a3']);
    expect(new Set(at).size).toBe(served.length);
    expect(turns.users).toBe(0);
    expect(turns.take(1)).not.toBeNull(); // served turns free the cap
  });

  it('counts a held turn against the cap until it is released, once', async () => {
    const turns = new ReadTurns(2);
    const release = turns.hold(1);
    await turns.take(1);
    turns.hold(1);
    expect(turns.take(1)).toBeNull(); // one held by the release below, one held for good
    release();
    release(); // a second release frees nothing more
    const next = turns.take(1);
    expect(next).not.toBeNull();
    expect(turns.take(1)).toBeNull();
    await next;
    expect(turns.take(2)).not.toBeNull(); // another user's cap is their own
  });
});
