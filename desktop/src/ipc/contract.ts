/**
 * The contract between the Electron main process and the renderer, through the preload bridge.
 * Runtime-neutral: main validates every payload with these schemas (the renderer is untrusted
 * from main's point of view), the preload only forwards, the renderer sees `DesktopApi`.
 */
import { z } from 'zod';

export { IPC_CHANNELS } from './channels.js';

export const IPC_LIMITS = {
  addressMax: 300,
  notificationTitleMax: 120,
  notificationBodyMax: 400,
  notificationTargetMax: 200,
  secretValueMax: 16 * 1024,
  /** The largest GDPR export main fetches for the page (the user's whole room history fits). */
  exportMaxBytes: 128 * 1024 * 1024,
} as const;

export const UiLanguage = z.enum(['fr', 'en']);
export type UiLanguage = z.infer<typeof UiLanguage>;

export const ChooseServerRequest = z
  .object({ address: z.string().min(1).max(IPC_LIMITS.addressMax), lang: UiLanguage })
  .strict();
export type ChooseServerRequest = z.infer<typeof ChooseServerRequest>;

export const NotifyRequest = z
  .object({
    title: z.string().max(IPC_LIMITS.notificationTitleMax),
    body: z.string().max(IPC_LIMITS.notificationBodyMax),
    /** What to open when clicked, e.g. "room:Général" or "dm:alice". */
    target: z.string().max(IPC_LIMITS.notificationTargetMax).optional(),
  })
  .strict();
export type NotifyRequest = z.infer<typeof NotifyRequest>;

export const SecretName = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/);
export const SecretSetRequest = z
  .object({ name: SecretName, value: z.string().max(IPC_LIMITS.secretValueMax) })
  .strict();

/** A session token, shaped as the authority's export endpoint accepts it. */
export const SessionToken = z.string().regex(/^[A-Za-z0-9_-]{16,128}$/);

/**
 * The authority's GDPR export, fetched by main (the page's origin, app://, cannot read an
 * https response the authority sends without CORS headers): the JSON text, or why not.
 */
export type ExportDataResult =
  | { ok: true; body: string }
  | { ok: false; reason: 'no-server' | 'cert-mismatch' | 'unreachable' | 'too-large' | 'refused'; status?: number };

export interface ServerInfo {
  /** wss://host:port/ws */
  url: string;
  /** SHA-256 of the certificate, colon-separated upper-case hex. */
  fingerprint: string;
  /** Set by the IT technician in a config file: the user cannot change it. */
  preset: boolean;
}

export type ChooseServerResult =
  | { ok: true; server: ServerInfo }
  | { ok: false; reason: 'invalid-address' | 'unreachable' | 'declined' | 'preset' };

/** What the preload exposes to the renderer as `window.chandlerDesktop`. */
export interface DesktopApi {
  readonly platform: string;
  getServer(): Promise<ServerInfo | null>;
  chooseServer(request: ChooseServerRequest): Promise<ChooseServerResult>;
  forgetServer(): Promise<boolean>;
  notify(request: NotifyRequest): void;
  onNotificationClicked(listener: (target: string) => void): () => void;
  /** Encrypted with the OS keychain (Electron safeStorage); null when absent or unavailable. */
  secretGet(name: string): Promise<string | null>;
  secretSet(name: string, value: string): Promise<boolean>;
  secretDelete(name: string): Promise<boolean>;
  /** GET /api/export from the pinned authority with this session token. */
  exportData(token: string): Promise<ExportDataResult>;
}
