/**
 * The renderer's side of direct messages: owns the DM engine (loaded on demand), unlocks it
 * with the login password, keeps unread counts and changed-key alerts per friend, and turns
 * the engine's records into timeline items. Every change bumps the session's version.
 */
import type { DmEngine, DmRecord, HistoryProgress, KeyChange, KeyLogAlarm } from '../../../../shared/client/dm/index.js';
import { peerKey } from '../../../../shared/client/dm/peer-key.js';
import { failure, type Failure, type Outcome } from '../../../../shared/protocol/index.js';
import { Emitter } from '../../../../shared/client/emitter.js';
import type { TimelineItem } from './timeline.js';

export type DmLockState = 'off' | 'loading' | 'locked' | 'unlocking' | 'ready' | 'failed';

/** Conversation page size; scrolling up asks for one more page. */
export const DM_PAGE = 100;

export interface DmEvents {
  received: DmRecord;
  historyProgress: HistoryProgress;
  keyChanged: KeyChange;
  warning: { code: string; message: string };
  keyLogAlarm: KeyLogAlarm;
}

export type DmTimelineItem = TimelineItem & { dm: DmRecord };

/** Verifies a password with the authority before it unlocks anything (see unlockWithPassword). */
/** Proves a password with the authority: the export key of that proof opens the account's sealed identity. */
export type PasswordCheck = (username: string, password: string) => Promise<Outcome<{ exportKey: Uint8Array | null }>>;

export class DmController extends Emitter<DmEvents> {
  state: DmLockState = 'off';
  engine: DmEngine | null = null;
  /** The DM history coming from another of my devices, while it comes. */
  history: HistoryProgress | null = null;
  error: Failure | null = null;
  private readonly unread = new Map<string, number>();
  private readonly limits = new Map<string, number>();
  private readonly cache = new Map<string, { version: number; items: DmTimelineItem[]; full: boolean }>();
  private viewing: string | null = null;
  private offs: Array<() => void> = [];
  private settledWaiters: Array<() => void> = [];

  constructor(
    private readonly bump: () => void,
    private readonly version: () => number,
  ) {
    super();
  }

  private set(state: DmLockState): void {
    this.state = state;
    if (this.isSettled()) for (const resolve of this.settledWaiters.splice(0)) resolve();
    this.bump();
  }

  private isSettled(): boolean {
    return this.state !== 'loading' && this.state !== 'unlocking';
  }

  /** Resolves once the engine is neither loading nor unlocking, or after `timeoutMs`. */
  whenSettled(timeoutMs: number): Promise<void> {
    if (this.isSettled()) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.settledWaiters.push(done);
    });
  }

  /** Loads the engine; unlocks it when the login password is at hand. */
  async start(load: () => Promise<DmEngine>, password: string | null): Promise<void> {
    if (this.state !== 'off') return;
    this.set('loading');
    try {
      this.engine = await load();
    } catch (err) {
      this.error = failure('INTERNAL', { message: (err as Error)?.message ?? String(err), cause: err });
      this.set('failed');
      return;
    }
    const engine = this.engine;
    this.offs = [
      engine.on('received', (r) => {
        const peer = peerKey(r.peer);
        if (this.viewing !== peer || document.visibilityState !== 'visible') this.unread.set(peer, (this.unread.get(peer) ?? 0) + 1);
        this.bump();
        this.emit('received', r);
      }),
      engine.on('status', () => this.bump()),
      engine.on('channel', () => this.bump()),
      engine.on('keyPinned', () => this.bump()),
      engine.on('historyProgress', (p) => {
        this.history = p.done ? null : p;
        this.bump();
        this.emit('historyProgress', p);
      }),
      engine.on('keyChanged', (k) => {
        this.bump();
        this.emit('keyChanged', k);
      }),
      engine.on('warning', (w) => this.emit('warning', w)),
      engine.on('keyLogAlarm', (a) => this.emit('keyLogAlarm', a)),
    ];
    if (password) await this.unlock(password);
    else this.set('locked');
  }

  /** Unlocks with a password the authority has just accepted (login, password change). */
  async unlock(password: string, exportKey?: Uint8Array | null): Promise<Failure | null> {
    if (!this.engine) return failure('LOCKED', { message: 'not loaded' });
    this.set('unlocking');
    const r = await this.engine.unlock(password, exportKey);
    if (!r.ok) {
      this.error = r.error;
      this.set(this.engine.state === 'ready' ? 'ready' : 'locked');
      return r.error;
    }
    this.error = null;
    this.set('ready');
    return null;
  }

  /**
   * After a resumed session the password is not known: it is checked with the authority first,
   * because the engine takes any password it is given as the current one (and would make a new
   * identity for a mistyped one).
   */
  async unlockWithPassword(username: string, password: string, check: PasswordCheck): Promise<Failure | null> {
    this.set('unlocking');
    const verified = await check(username, password);
    if (!verified.ok) {
      this.set('locked');
      return verified.error;
    }
    const { exportKey } = verified.value;
    try {
      return await this.unlock(password, exportKey);
    } finally {
      exportKey?.fill(0);
    }
  }

  async changePassword(newPassword: string): Promise<void> {
    if (this.engine?.state === 'ready') await this.engine.changePassword(newPassword);
  }

  unreadOf(username: string): number {
    return this.unread.get(peerKey(username)) ?? 0;
  }

  /** The conversation on screen: its DMs are read as they come while the page is visible. */
  setViewing(username: string | null): void {
    this.viewing = username === null ? null : peerKey(username);
    if (this.viewing && this.unread.delete(this.viewing)) this.bump();
  }

  markRead(username: string): void {
    if (this.unread.delete(peerKey(username))) this.bump();
  }

  isBlocked(username: string): boolean {
    return this.state === 'ready' && (this.engine?.isBlocked(username) ?? false);
  }

  channel(username: string): 'open' | 'connecting' | 'closed' {
    return this.engine?.channelState(username) ?? 'closed';
  }

  /** The loaded part of a conversation, oldest first; `full` when nothing older exists. */
  timeline(username: string, me: string): { items: DmTimelineItem[]; full: boolean } {
    const key = peerKey(username);
    const cached = this.cache.get(key);
    const v = this.version();
    if (cached && cached.version === v) return cached;
    if (this.state !== 'ready' || !this.engine) return { items: [], full: true };
    const limit = this.limits.get(key) ?? DM_PAGE;
    const r = this.engine.conversation(username, { limit });
    const records = r.ok ? r.value : [];
    const items = records.map((dm) => ({
      key: `dm:${dm.id}`,
      seq: null,
      clientId: dm.id,
      author: dm.direction === 'out' ? me : dm.author,
      text: dm.text,
      ts: dm.ts,
      status: dm.direction === 'in' ? ('received' as const) : dm.status === 'failed' ? ('failed' as const) : dm.status === 'sending' ? ('sending' as const) : ('sent' as const),
      dm,
    }));
    const entry = { version: v, items, full: records.length < limit };
    this.cache.set(key, entry);
    return entry;
  }

  loadOlder(username: string): void {
    const key = peerKey(username);
    this.limits.set(key, (this.limits.get(key) ?? DM_PAGE) + DM_PAGE);
    this.bump();
  }

  async send(username: string, text: string): Promise<Failure | null> {
    if (!this.engine || this.state !== 'ready') return failure('LOCKED', { message: 'locked' });
    const pending = this.engine.send(username, text);
    this.bump();
    const r = await pending;
    return r.ok ? null : r.error;
  }

  /**
   * This device's DM history for the export: the engine's, when unlocked; otherwise why not
   * ('locked': sealed under the password, not typed since the session was resumed).
   */
  exportHistory(): { ok: true; value: unknown } | { ok: false; why: 'locked' | 'unavailable' } {
    if (this.engine && this.state === 'ready') {
      const r = this.engine.exportHistory();
      if (r.ok) return { ok: true, value: r.value };
    }
    return { ok: false, why: this.state === 'locked' || this.state === 'ready' ? 'locked' : 'unavailable' };
  }

  /** Erases every DM of this device's history (when unlocked: a locked one is removed whole by the caller). */
  async eraseHistory(): Promise<boolean> {
    if (!this.engine || this.state !== 'ready') return false;
    const r = await this.engine.eraseHistory(null);
    return r.ok;
  }

  async close(): Promise<void> {
    for (const off of this.offs.splice(0)) off();
    const engine = this.engine;
    this.engine = null;
    this.state = 'off';
    for (const resolve of this.settledWaiters.splice(0)) resolve();
    await engine?.close();
  }
}
