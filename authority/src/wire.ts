/**
 * Wire shapes built from what the store holds: each shape that more than one place sends is
 * built here, once (a room message in history pages and in the group commit's fan-out, a
 * stored DM pushed live and from the backlog).
 */
import type { EventData, RoomMessage } from '../../shared/protocol/index.js';
import type { StoredDmRow } from './store/dms.js';
import type { MessageRow } from './store/index.js';

export function roomMessage(room: string, m: Pick<MessageRow, 'seq' | 'client_id' | 'author_name' | 'text' | 'ts'>): RoomMessage {
  return { room, seq: m.seq, clientId: m.client_id, author: m.author_name, text: m.text, ts: m.ts };
}

/** `stored`: it waited in the authority's store (the backlog), rather than being relayed live. */
export function dmReceived(
  row: Pick<StoredDmRow, 'id' | 'from_name' | 'envelope' | 'created_at'>,
  stored: boolean,
): EventData<'dmReceived'> {
  const event = { id: row.id, from: row.from_name, envelope: row.envelope, ts: row.created_at };
  return stored ? { ...event, stored: true } : event;
}
