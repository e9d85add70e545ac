/**
 * The client core's socket in Node: `ws` with the authority's certificate pinned by its
 * SHA-256 fingerprint (self-signed certificates have no CA to vouch for them). The check runs
 * on the TLS handshake, before the WebSocket upgrade sends anything.
 */
import type { TLSSocket } from 'node:tls';
import WebSocket from 'ws';
import { LIMITS, normalizeFingerprint } from '../shared/protocol/index.js';
import { CERT_MISMATCH_CLOSE, type SocketFactory, type SocketLike } from '../shared/client/transport.js';

export interface PinOptions {
  /** Expected fingerprint; null accepts any certificate and reports it (trust on first use). */
  fingerprint: string | null;
  /** Told the certificate's fingerprint as soon as the handshake completes. */
  onCertificate?: (fingerprint: string) => void;
  /** The local address to connect from (tests give each client its own loopback address). */
  localAddress?: string;
}

class PinnedSocket implements SocketLike {
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  private readonly ws: WebSocket;
  private mismatch: string | null = null;

  constructor(url: string, pin: PinOptions) {
    // An unparsable pin matches no certificate: fail closed.
    const expected = pin.fingerprint === null ? null : (normalizeFingerprint(pin.fingerprint) ?? 'no-certificate-matches');
    this.ws = new WebSocket(url, {
      rejectUnauthorized: false, // replaced by the pin below
      perMessageDeflate: false,
      maxPayload: LIMITS.maxFrameBytes * 16,
      handshakeTimeout: 10_000,
      localAddress: pin.localAddress,
    });
    const req = (this.ws as unknown as { _req?: import('node:http').ClientRequest })._req;
    req?.on('socket', (socket) => {
      if (!url.startsWith('wss:')) return;
      (socket as TLSSocket).once('secureConnect', () => {
        const cert = (socket as TLSSocket).getPeerCertificate();
        const actual = cert?.fingerprint256 ?? '';
        pin.onCertificate?.(actual);
        if (expected !== null && actual !== expected) {
          this.mismatch = `certificate fingerprint ${actual} is not the pinned ${expected}`;
          socket.destroy();
        }
      });
    });
    this.ws.on('open', () => this.onopen?.({}));
    this.ws.on('message', (data, isBinary) => {
      if (!isBinary) this.onmessage?.({ data: data.toString() });
    });
    this.ws.on('error', (err) => this.onerror?.(err));
    this.ws.on('close', (code, reason) => {
      if (this.mismatch) this.onclose?.({ code: CERT_MISMATCH_CLOSE, reason: this.mismatch });
      else this.onclose?.({ code, reason: reason.toString() });
    });
  }

  get readyState(): number {
    return this.ws.readyState;
  }

  send(data: string): void {
    this.ws.send(data);
  }

  close(code?: number, reason?: string): void {
    if (this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
    else this.ws.close(code, reason);
  }
}

export function pinnedSocketFactory(pin: PinOptions): SocketFactory {
  return (url) => new PinnedSocket(url, pin);
}
