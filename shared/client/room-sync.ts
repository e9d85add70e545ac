/**
 * The rooms as this client holds them, and keeping them whole: messages by sequence number,
 * the resume cursor per room (the highest sequence held with nothing missing), the fetch of
 * what was missed after a reconnect or a gap seen live (page by page, one sync at a time), and
 * history pages for scrolling up. No duplicates, no silent gaps.
 */
import { LIMITS, fail, ok, type Outcome, type Params, type RequestType, type Result, type RoomInfo, type RoomMessage } from '../protocol/index.js';
import { rateLimitDelay, RETRY_POLICY } from './retry.js';

export interface RoomState {
  info: RoomInfo;
  /** Loaded messages by sequence number. */
  messages: Map<number, RoomMessage>;
  /** Highest sequence number held with nothing missing after the first loaded one. */
  lastSeq: number;
  /** Lowest loaded sequence number (history pages go below it). */
  oldestSeq: number;
  hasOlder: boolean;
  unread: number;
}

export interface RoomSyncHooks {
  call<T extends RequestType>(type: T, params: Params<T>): Promise<Outcome<Result<T>>>;
  /** True while a socket is up (a sync goes round again only then). */
  connected(): boolean;
  me(): string | null;
  roomsChanged(rooms: RoomState[]): void;
  /** A message new to this client, live or filled in. */
  added(m: RoomMessage): void;
  resynced(filled: { rooms: number; messages: number }): void;
}

export class RoomSync {
  readonly rooms = new Map<string, RoomState>();
  private syncing: Promise<void> | null = null;
  private syncAgain = false;

  constructor(private readonly hooks: RoomSyncHooks) {}

  async refresh(): Promise<Outcome<RoomInfo[]>> {
    const r = await this.hooks.call('listRooms', {});
    if (!r.ok) return r;
    for (const info of r.value.rooms) {
      const known = this.rooms.get(info.name);
      if (known) {
        const joined = known.info.access !== 'member' && info.access === 'member';
        known.info = info;
        if (info.access !== 'member') {
          known.messages.clear();
          known.lastSeq = 0;
          known.oldestSeq = 0;
        } else if (joined) {
          // Just let in: live from "now", like a room first seen (older messages come by pages).
          known.lastSeq = info.lastSeq;
          known.oldestSeq = info.lastSeq + 1;
          known.hasOlder = info.lastSeq > 0;
          while (known.messages.has(known.lastSeq + 1)) known.lastSeq++;
        }
      } else {
        this.rooms.set(info.name, {
          info,
          messages: new Map(),
          // Start live from "now": older messages come by history pages.
          lastSeq: info.access === 'member' ? info.lastSeq : 0,
          oldestSeq: info.lastSeq + 1,
          hasOlder: info.lastSeq > 0,
          unread: 0,
        });
      }
    }
    this.changed();
    return ok(r.value.rooms);
  }

  private changed(): void {
    this.hooks.roomsChanged([...this.rooms.values()]);
  }

  /**
   * Fetches everything missed since the last sequence held per room, page by page. One sync
   * runs at a time: a call while one runs makes it go round once more (a gap seen meanwhile).
   */
  syncAll(): Promise<void> {
    if (this.syncing) {
      this.syncAgain = true;
      return this.syncing;
    }
    this.syncing = (async () => {
      do {
        this.syncAgain = false;
        await this.syncOnce();
      } while (this.syncAgain && this.hooks.connected());
    })().finally(() => (this.syncing = null));
    return this.syncing;
  }

  private async syncOnce(): Promise<void> {
    let cursors = this.memberCursors();
    let filledRooms = 0;
    let filled = 0;
    let waits = 0;
    while (Object.keys(cursors).length > 0) {
      const r = await this.hooks.call('syncRooms', { cursors, limit: LIMITS.maxPageSize });
      if (!r.ok && r.error.code === 'RATE_LIMITED' && waits++ < RETRY_POLICY.maxRateLimitWaits && this.hooks.connected()) {
        // The authority's read budget: it says when; the same cursors are asked for then.
        await new Promise((resolve) => setTimeout(resolve, rateLimitDelay(r.error)));
        continue;
      }
      if (!r.ok) return;
      const next: Record<string, number> = {};
      let received = 0;
      for (const page of r.value.rooms) {
        if (page.messages.length) filledRooms++;
        received += page.messages.length;
        for (const m of page.messages) if (this.accept(m)) filled++;
        // A reply is cut at the authority's byte budget: a room past it comes back empty with
        // hasMore, and is asked for again from the same cursor; one it reached, from its last message.
        const last = page.messages.at(-1)?.seq ?? cursors[page.room] ?? 0;
        if (page.hasMore) next[page.room] = Math.max(last, cursors[page.room] ?? 0);
      }
      // The authority sends at least one message while any is missing: an empty reply ends it.
      cursors = received > 0 ? next : {};
    }
    this.hooks.resynced({ rooms: filledRooms, messages: filled });
  }

  private memberCursors(): Record<string, number> {
    const cursors: Record<string, number> = {};
    for (const [name, r] of this.rooms) if (r.info.access === 'member') cursors[name] = r.lastSeq;
    return cursors;
  }

  /** A message from the fan-out: a gap before it (we were cut off as a slow reader, a frame got lost) is fetched. */
  live(m: RoomMessage): void {
    const room = this.rooms.get(m.room);
    if (room && room.info.access === 'member' && m.seq > room.lastSeq + 1) void this.syncAll();
    this.accept(m);
  }

  /**
   * Adds a message if new; true when it was. lastSeq moves only over an unbroken run, so a
   * message that arrives past a gap never hides the gap from the next sync.
   */
  private accept(m: RoomMessage): boolean {
    const room = this.rooms.get(m.room);
    if (!room || room.messages.has(m.seq)) return false;
    if (m.seq <= room.lastSeq && m.seq >= room.oldestSeq) return false; // already seen and evicted
    room.messages.set(m.seq, m);
    while (room.messages.has(room.lastSeq + 1)) room.lastSeq++;
    if (m.seq < room.oldestSeq) room.oldestSeq = m.seq;
    room.info.lastSeq = Math.max(room.info.lastSeq, m.seq);
    if (m.author !== this.hooks.me()) room.unread++;
    this.hooks.added(m);
    return true;
  }

  /** True when the room holds this message. */
  holds(room: string, seq: number): boolean {
    return this.rooms.get(room)?.messages.has(seq) ?? false;
  }

  /** Older messages for scrolling up; merges them into the room and returns them. */
  async loadOlder(roomName: string, limit: number = LIMITS.defaultPageSize): Promise<Outcome<RoomMessage[]>> {
    const room = this.rooms.get(roomName);
    if (!room) return fail('UNKNOWN_ROOM');
    const r = await this.hooks.call('fetchHistory', { room: roomName, before: room.oldestSeq, limit });
    if (!r.ok) return r;
    for (const m of r.value.messages) {
      if (!room.messages.has(m.seq)) room.messages.set(m.seq, m);
      if (m.seq < room.oldestSeq) room.oldestSeq = m.seq;
    }
    room.hasOlder = r.value.hasMore;
    return ok(r.value.messages);
  }

  /** The room's loaded messages, oldest first. */
  messagesOf(roomName: string): RoomMessage[] {
    const room = this.rooms.get(roomName);
    return room ? [...room.messages.values()].sort((a, b) => a.seq - b.seq) : [];
  }

  markRead(roomName: string): void {
    const room = this.rooms.get(roomName);
    if (room && room.unread) {
      room.unread = 0;
      this.changed();
    }
  }
}
