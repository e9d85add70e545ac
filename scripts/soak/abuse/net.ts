/**
 * The abuse soak's sockets, each from a chosen loopback source address (every 127.x.y.z reaches
 * a loopback server on Linux), so that the authority's per-address limits see one address per
 * well-behaved client and separate ones for the attacker.
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import WebSocket from 'ws';
import type { SocketFactory } from '../../../shared/client/transport.js';
import { pinnedSocketFactory } from '../../../cli/node-socket.js';
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

/** The client core's pinned socket (cli/node-socket.ts), from the given source address. */
export function sourcedSocketFactory(fingerprint: string, localAddress: string): SocketFactory {
  return pinnedSocketFactory({ fingerprint, localAddress });
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
