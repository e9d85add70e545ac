/**
 * Bridges one logged-in ChandlerClient to React: a version number bumped on every client event
 * (read with useSyncExternalStore), the room timelines (the room's messages, then mine the
 * client's outbox still holds), history paging with one page in flight per room, drafts, and
 * the admin's pending access requests.
 */
import { useSyncExternalStore } from 'react';
import type { ChandlerClient, RoomState } from '../../../../shared/client/index.js';
import type { AccessRequestInfo } from '../../../../shared/protocol/index.js';
import { DmController } from './dm.js';
import type { TimelineItem } from './timeline.js';

export class Session {
  private version = 0;
  private readonly listeners = new Set<() => void>();
  private readonly loadingOlder = new Set<string>();
  private readonly drafts = new Map<string, string>();
  private readonly timelines = new Map<string, { version: number; items: TimelineItem[] }>();
  private readonly offs: Array<() => void> = [];
  accessRequests: AccessRequestInfo[] = [];
  readonly dm: DmController;

  constructor(readonly client: ChandlerClient) {
    this.dm = new DmController(() => this.bump(), () => this.version);
    const bump = () => this.bump();
    this.offs.push(
      client.on('status', (s) => {
        if (s === 'ready' && client.isAdmin) void this.refreshAccessRequests();
        bump();
      }),
      client.on('message', bump),
      client.on('rooms', bump),
      client.on('friends', bump),
      client.on('session', bump),
      client.on('outbox', bump),
      client.on('event', (e) => {
        if (e.ev === 'accessRequested' && client.isAdmin) void this.refreshAccessRequests();
        if (e.ev === 'adminChanged') void this.refreshAccessRequests();
        bump();
      }),
    );
    if (client.status === 'ready' && client.isAdmin) void this.refreshAccessRequests();
  }

  readonly subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  readonly getVersion = (): number => this.version;

  bump(): void {
    this.version++;
    for (const fn of [...this.listeners]) fn();
  }

  get me(): string {
    return this.client.username ?? '';
  }

  room(name: string): RoomState | undefined {
    return this.client.rooms.get(name);
  }

  /** A room's loaded messages, oldest first, followed by mine still on their way. */
  timeline(roomName: string): TimelineItem[] {
    const cached = this.timelines.get(roomName);
    if (cached && cached.version === this.version) return cached.items;
    const me = this.me;
    const items: TimelineItem[] = [];
    for (const m of this.client.messagesOf(roomName)) {
      items.push({
        key: `s${m.seq}`,
        seq: m.seq,
        clientId: m.clientId,
        author: m.author,
        text: m.text,
        ts: m.ts,
        status: m.author === me ? 'sent' : 'received',
      });
    }
    for (const m of this.client.outbox.pending(roomName)) {
      items.push({
        key: `c${m.clientId}`,
        seq: m.seq ?? null,
        clientId: m.clientId,
        author: me,
        text: m.text,
        ts: m.createdAt,
        status: m.status,
        error: m.error,
      });
    }
    this.timelines.set(roomName, { version: this.version, items });
    return items;
  }

  isLoadingOlder(room: string): boolean {
    return this.loadingOlder.has(room);
  }

  /** Loads the page before the oldest loaded message; one request per room at a time. */
  async loadOlder(room: string): Promise<void> {
    const state = this.client.rooms.get(room);
    if (!state || !state.hasOlder || state.info.access !== 'member' || this.loadingOlder.has(room)) return;
    this.loadingOlder.add(room);
    this.bump();
    try {
      await this.client.loadOlder(room);
    } finally {
      this.loadingOlder.delete(room);
      this.bump();
    }
  }

  draft(room: string): string {
    return this.drafts.get(room) ?? '';
  }

  setDraft(room: string, text: string): void {
    if (text) this.drafts.set(room, text);
    else this.drafts.delete(room);
  }

  async refreshAccessRequests(): Promise<void> {
    if (!this.client.isAdmin) {
      this.accessRequests = [];
      this.bump();
      return;
    }
    const r = await this.client.accessRequests();
    if (r.ok) {
      this.accessRequests = r.value;
      this.bump();
    }
  }

  /** Ends this session's subscriptions and the DM engine (the client is closed by its owner). */
  async destroy(): Promise<void> {
    for (const off of this.offs.splice(0)) off();
    await this.dm.close();
    this.listeners.clear();
  }
}

/** Re-renders the component whenever the session changes. */
export function useSession(session: Session): number {
  return useSyncExternalStore(session.subscribe, session.getVersion);
}
