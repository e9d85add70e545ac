/**
 * What the client core needs of a WebSocket. Browsers pass their own WebSocket; Node passes
 * `ws` wrapped with certificate pinning (cli/node-socket.ts). Only text frames are used.
 */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export type SocketFactory = (url: string) => SocketLike;

export const SOCKET_OPEN = 1;

/** Close code a Node socket reports when the server's certificate is not the pinned one. */
export const CERT_MISMATCH_CLOSE = 4900;
