/**
 * The control socket's wire: one JSON line each way per connection. chandler-admin sends the
 * command's words (and a password it prompted for, if any); the authority answers with the
 * command's reply. Both ends parse what they receive.
 */
import { join } from 'node:path';
import { z } from 'zod';
import { LIMITS } from '../../../shared/protocol/index.js';

/** The socket's file name in the data directory. */
export const CONTROL_SOCKET_NAME = 'admin.sock';
export const CONTROL_WIRE_VERSION = 1;

export function controlSocketPath(dataDir: string): string {
  return join(dataDir, CONTROL_SOCKET_NAME);
}
/** Largest request line (bytes). */
export const MAX_CONTROL_REQUEST_BYTES = 16 * 1024;
const MAX_WORDS = 64;
const MAX_WORD_CHARS = 1000;

export const ControlRequest = z
  .object({
    v: z.literal(CONTROL_WIRE_VERSION),
    words: z.array(z.string().max(MAX_WORD_CHARS)).min(1).max(MAX_WORDS),
    /** A password chandler-admin read at its own terminal, without echo. */
    secret: z.string().max(LIMITS.passwordMax).optional(),
  })
  .strict();
export type ControlRequest = z.infer<typeof ControlRequest>;

export const ControlReply = z.object({ ok: z.boolean(), text: z.string() });
export type ControlReply = z.infer<typeof ControlReply>;
