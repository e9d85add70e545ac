/**
 * The hand-over of stored DM envelopes to a recipient's connections, in one ordered stream:
 * at session start the backlog goes out a batch at a time (the next batch after each
 * acknowledgement, so a large backlog never floods a socket); once a connection has caught
 * up, new envelopes are pushed to it live. Its state is each connection's `dm.delivery`.
 * Used at session start (handlers/accounts.ts) and by the DM handlers (handlers/dms.ts).
 */
import type { Connection } from './connection.js';
import type { Services } from './context.js';
import type { StoredDmRow } from './store/dms.js';
import { dmReceived } from './wire.js';

/** Stored envelopes sent per delivery burst. */
export const DELIVERY_BATCH = 200;

/** Starts the connection's backlog from its beginning (session start, or a client asking again). */
export function deliverStoredDms(s: Services, c: Connection): void {
  if (!c.user || !c.isOpen) return;
  c.dm.delivery = { userId: c.user.id, cursor: 0, caughtUp: false };
  deliverNextBatch(s, c);
}

/** The next batch of the backlog, unless the connection has caught up (or never started). */
export function deliverNextBatch(s: Services, c: Connection): void {
  const delivery = c.dm.delivery;
  if (!delivery || delivery.caughtUp) return;
  if (!c.user || c.user.id !== delivery.userId || !c.isOpen) return;
  const oldest = s.now() - s.config.limits.storedDmMaxAgeMs;
  const rows = s.store.dms.pendingFor(delivery.userId, delivery.cursor, oldest, DELIVERY_BATCH, c.dm.deviceId);
  for (const row of rows) {
    c.send('dmReceived', dmReceived(row, true));
    delivery.cursor = row.id;
  }
  if (rows.length < DELIVERY_BATCH) delivery.caughtUp = true;
}

/**
 * A just-stored envelope to the recipient's connections that have caught up (the others get it
 * with their backlog), but not to `exceptDevice` (the device that sent a copy for the others).
 * True when at least one connection was handed it.
 */
export function pushStoredDm(
  s: Services,
  row: Pick<StoredDmRow, 'id' | 'to_id' | 'from_name' | 'envelope' | 'created_at'>,
  exceptDevice: string | null,
): boolean {
  let pushed = false;
  for (const conn of s.hub.connectionsOf(row.to_id)) {
    const delivery = conn.dm.delivery;
    if (!delivery?.caughtUp || !conn.isOpen) continue;
    if (exceptDevice !== null && conn.dm.deviceId === exceptDevice) continue;
    conn.send('dmReceived', dmReceived(row, false));
    delivery.cursor = row.id;
    pushed = true;
  }
  return pushed;
}
