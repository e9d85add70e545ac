/**
 * What the DM engine's parts (keys, channels, inbox, receipts) share: the session, through the
 * client's public API; the options; the unlocked identity and history; and where to report.
 * The engine makes the one instance and hands it to each part (with the other parts it needs),
 * so that no part reaches into the engine's own state.
 */
import type { DeviceIdentity } from '../../crypto/index.js';
import type { DmPath, FriendInfo } from '../../protocol/index.js';
import type { ChandlerClient } from '../client.js';
import type { DmHistory } from './history.js';
import type { DmEngineEvents, DmEngineOptions } from './types.js';

export interface Me {
  username: string;
  identity: DeviceIdentity;
}

export interface DmContext {
  readonly client: ChandlerClient;
  readonly options: DmEngineOptions;
  /** Names this engine in signaling, so that a user's other sessions ignore what is not for them. */
  readonly sessionId: string;
  /** True while unlocked: `me` and `history` are set. */
  readonly ready: boolean;
  readonly me: Me | null;
  readonly history: DmHistory | null;
  /** The friend by that name (any case), when friends with them. */
  friend(name: string): FriendInfo | null;
  report<K extends keyof DmEngineEvents>(name: K, payload: DmEngineEvents[K]): void;
  log(event: string, fields: Record<string, unknown>): void;
  /** An incoming envelope or signal refused: logged and reported, never with content. */
  reject(from: string, reason: string, path: DmPath | 'signal'): void;
}
