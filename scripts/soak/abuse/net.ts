/**
 * The abuse soak's sockets, each from a chosen loopback source address (every 127.x.y.z reaches
 * a loopback server on Linux), so that the authority's per-address limits see one address per
 * well-behaved client and separate ones for the attacker. The client core's socket pins the
 * certificate as cli/node-socket.ts does; the product's factory has no source-address option.
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import WebSocket from 'ws';
import { LIMITS, normalizeFingerprint } from '../../../shared/protocol/index.js';
import { CERT_MISMATCH_CLOSE, type SocketFactory, type SocketLike } from '../../../shared/client/transport.js';
import { RawConn } from '../../../tests/reliability/support/raw.js';

const HANDSHAKE_TIMEOUT_MS = 10_000;

/** Well-behaved client i: 127.0.0.2, 127.0.0.3, … (250 per /24). */
export function clientAddress(i: number): string {
  return `127.0.${Math.floor(i / 250)}.${(i % 250) + 2}`;
}

/** The attacker's addresses: 127.1.<attack>.<n>, apart from every well-behaved client. */
export function attackerAddress(attack: number, n = 1): string {
  return `127.1.${attack}.${n}`;
}

class SourcedSocket implements SocketLike {
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  private readonly ws: WebSocket;
  private mismatch: string | null = null;

  constructor(url: string, fingerprint: string, localAddress: string) {
    const expected = normalizeFingerprint(fingerprint) ?? 'no-certificate-matches';
    this.ws = new WebSocket(url, {
      rejectUnauthorized: false, // replaced by the pin below
      perMessageDeflate: false,
      maxPayload: LIMITS.maxFrameBytes * 16,
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
      localAddress,
    });
    const req = (this.ws as unknown as { _req?: import('node:http').ClientRequest })._req;
    req?.on('socket', (socket) => {
      (socket as TLSSocket).once('secureConnect', () => {
        const actual = (socket as TLSSocket).getPeerCertificate()?.fingerprint256 ?? '';
        if (actual !== expected) {
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

export function sourcedSocketFactory(fingerprint: string, localAddress: string): SocketFactory {
  return (url) => new SourcedSocket(url, fingerprint, localAddress);
}

/** A bare WebSocket (tests/reliability/support/raw.ts) from a chosen source address. */
export function rawFrom(url: string, localAddress: string): RawConn {
  return new RawConn(
    url,
    new WebSocket(url, {
      rejectUnauthorized: false,
      perMessageDeflate: false,
      maxPayload: 16 * 1024 * 1024,
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
      localAddress,
    }),
  );
}

/**
 * A socket that stops before the WebSocket upgrade: `tcp` never starts the TLS handshake,
 * `tls` finishes it and never sends the HTTP request. Resolves once connected (or failed).
 */
export function stalledSocket(port: number, localAddress: string, stage: 'tcp' | 'tls'): Promise<Socket | null> {
  return new Promise((resolve) => {
    const tcp = tcpConnect({ host: '127.0.0.1', port, localAddress });
    const s = stage === 'tcp' ? tcp : tlsConnect({ socket: tcp, rejectUnauthorized: false });
    tcp.on('error', () => resolve(null));
    s.on('error', () => resolve(null));
    s.once(stage === 'tcp' ? 'connect' : 'secureConnect', () => resolve(s));
  });
}
