/**
 * GDPR on this device: the export file — what the authority holds about the user (GET
 * /api/export), plus this device's DM history, which only devices hold — saved as one JSON
 * download. The CLI's `export` writes the same shape.
 */
import { z } from 'zod';
import type { ExportDataResult } from '../../ipc/contract.js';
import type { AnyErrorCode } from '../../../../shared/protocol/index.js';
import { CLIENT_VERSION, fetchServerExport } from '../platform.js';
import type { Session } from './session.js';

/** The authority's export format (authority/src/handlers/privacy.ts). */
export const SERVER_EXPORT_FORMAT = 'chandler-export-v1';
/** How long the export waits for DMs still being unlocked (scrypt on a slow machine) before going without them. */
export const DM_SETTLE_TIMEOUT_MS = 20_000;
/** Long enough for the browser to start the download from the object URL. */
export const DOWNLOAD_URL_LIFETIME_MS = 60_000;

const ServerExport = z
  .object({
    format: z.literal(SERVER_EXPORT_FORMAT),
    exportedAt: z.string(),
    server: z.object({ account: z.object({ username: z.string() }).passthrough() }).passthrough(),
  })
  .passthrough();

export type DmsMissing = 'locked' | 'unavailable';

export type ExportOutcome =
  | { ok: true; fileName: string; dmsMissing: DmsMissing | null }
  | { ok: false; code: AnyErrorCode | 'TOO_LARGE' };

/** Why the server part failed, as a code the user is shown in words. */
function failureCode(r: Extract<ExportDataResult, { ok: false }>): AnyErrorCode | 'TOO_LARGE' {
  switch (r.reason) {
    case 'cert-mismatch':
      return 'CERT_MISMATCH';
    case 'too-large':
      return 'TOO_LARGE';
    case 'refused':
      return r.status === 401 ? 'INVALID_SESSION' : 'INTERNAL';
    default:
      return 'DISCONNECTED';
  }
}

export function exportFileName(username: string, now: number): string {
  return `chandler-export-${username}-${new Date(now).toISOString().slice(0, 10)}.json`;
}

/**
 * Builds the export file. `explainMissing` words, in the user's language, why the DM history
 * is not in the file (it is said in the file itself, and to the user).
 */
export async function buildExport(
  session: Session,
  explainMissing: (why: DmsMissing) => string,
): Promise<{ ok: true; file: Record<string, unknown>; dmsMissing: DmsMissing | null } | { ok: false; code: AnyErrorCode | 'TOO_LARGE' }> {
  const token = session.client.session?.token;
  if (!token) return { ok: false, code: 'NOT_AUTHENTICATED' };
  const fetched = await fetchServerExport(token);
  if (!fetched.ok) return { ok: false, code: failureCode(fetched) };
  let parsed: z.infer<typeof ServerExport>;
  try {
    const r = ServerExport.safeParse(JSON.parse(fetched.body));
    if (!r.success) return { ok: false, code: 'BAD_REPLY' };
    parsed = r.data;
  } catch {
    return { ok: false, code: 'BAD_REPLY' };
  }
  await session.dm.whenSettled(DM_SETTLE_TIMEOUT_MS);
  const dms = session.dm.exportHistory();
  const device = dms.ok
    ? { client: CLIENT_VERSION, directMessages: dms.value }
    : { client: CLIENT_VERSION, directMessages: null, directMessagesNotIncluded: { reason: dms.why, explanation: explainMissing(dms.why) } };
  return { ok: true, file: { ...parsed, device }, dmsMissing: dms.ok ? null : dms.why };
}

/**
 * Saves JSON as a download: a Blob behind an object URL and an <a download> clicked in
 * `host` (inside the open modal dialog, the rest of the page being inert).
 */
export function downloadJson(host: HTMLElement, fileName: string, data: unknown): void {
  const blob = new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.hidden = true;
  host.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), DOWNLOAD_URL_LIFETIME_MS);
}

export async function exportMyData(session: Session, host: HTMLElement, explainMissing: (why: DmsMissing) => string): Promise<ExportOutcome> {
  const built = await buildExport(session, explainMissing);
  if (!built.ok) return built;
  const fileName = exportFileName(session.me, Date.now());
  downloadJson(host, fileName, built.file);
  return { ok: true, fileName, dmsMissing: built.dmsMissing };
}
