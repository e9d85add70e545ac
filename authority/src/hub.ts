/**
 * Who is connected, who reads which room, and the once-per-loop-turn flush of every
 * connection's queued frames (one corked write burst per socket per turn).
 */
import type { EventData, EventName } from '../../shared/protocol/index.js';
import type { Connection } from './connection.js';
import { frameEvent } from './frame.js';

export class Hub {
  readonly connections = new Set<Connection>();
  private readonly byUser = new Map<number, Set<Connection>>();
  private readonly byRoom = new Map<number, Set<Connection>>();
  private dirty: Connection[] = [];
  private flushScheduled = false;

  readonly markDirty = (c: Connection): void => {
    this.dirty.push(c);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flush);
    }
  };

  readonly flush = (): void => {
    this.flushScheduled = false;
    const list = this.dirty;
    this.dirty = [];
    for (const c of list) c.flush();
  };

  add(c: Connection): void {
    this.connections.add(c);
  }

  /** Registers an authenticated connection under its user. Returns true when it is the user's first. */
  attach(c: Connection, userId: number): boolean {
    let set = this.byUser.get(userId);
    const first = !set || set.size === 0;
    if (!set) this.byUser.set(userId, (set = new Set()));
    set.add(c);
    return first;
  }

  /** Forgets a connection everywhere. Returns true when its user has no connection left. */
  remove(c: Connection): boolean {
    this.connections.delete(c);
    for (const roomId of c.rooms) this.byRoom.get(roomId)?.delete(c);
    c.rooms.clear();
    if (!c.user) return false;
    const set = this.byUser.get(c.user.id);
    if (!set || !set.delete(c)) return false;
    if (set.size > 0) return false;
    this.byUser.delete(c.user.id);
    return true;
  }

  subscribe(c: Connection, roomId: number): void {
    c.rooms.add(roomId);
    let set = this.byRoom.get(roomId);
    if (!set) this.byRoom.set(roomId, (set = new Set()));
    set.add(c);
  }

  unsubscribe(c: Connection, roomId: number): void {
    c.rooms.delete(roomId);
    this.byRoom.get(roomId)?.delete(c);
  }

  connectionsOf(userId: number): ReadonlySet<Connection> {
    return this.byUser.get(userId) ?? new Set();
  }

  isOnline(userId: number): boolean {
    return (this.byUser.get(userId)?.size ?? 0) > 0;
  }

  onlineUserIds(): number[] {
    return [...this.byUser.keys()];
  }

  readersOf(roomId: number): ReadonlySet<Connection> {
    return this.byRoom.get(roomId) ?? new Set();
  }

  /** The same framed bytes (`frames` WebSocket frames) to every reader of the room. */
  broadcastFrame(roomId: number, frame: Buffer, frames = 1): number {
    const readers = this.byRoom.get(roomId);
    if (!readers) return 0;
    for (const c of readers) c.sendFrame(frame, frames);
    return readers.size;
  }

  /** One event to every connection of the user, framed once. */
  sendToUser<E extends EventName>(userId: number, ev: E, data: EventData<E>): void {
    const set = this.byUser.get(userId);
    if (!set || set.size === 0) return;
    const frame = frameEvent(ev, data);
    for (const c of set) c.sendFrame(frame);
  }

  closeUser(userId: number, code: number, reason: string): number {
    const set = [...(this.byUser.get(userId) ?? [])];
    for (const c of set) c.close(code, reason);
    return set.length;
  }
}
