/**
 * Certificate pinning: the authority's certificate is trusted when its SHA-256 fingerprint is
 * the pinned one, whatever a CA says; every other TLS host is refused (there is no remote
 * content to load). The fingerprint is first learnt by probing the server (trust on first
 * use, confirmed by the user) or preset by IT.
 */
import { X509Certificate } from 'node:crypto';
import { connect } from 'node:tls';
import { isIP } from 'node:net';
import { normalizeFingerprint } from '../../../shared/protocol/fingerprint.js';

/** Chromium's verdicts for setCertificateVerifyProc. */
export const VERIFY_OK = 0;
export const VERIFY_FAIL = -2;

export const PROBE_TIMEOUT_MS = 6000;

export interface Pin {
  host: string;
  fingerprint: string;
}

export interface VerifyRequest {
  hostname: string;
  certificate: { data: string };
}

/** SHA-256 of a PEM certificate, colon-separated upper-case hex (as the authority prints it). */
export function certificateFingerprint(pem: string): string {
  return new X509Certificate(pem).fingerprint256.toUpperCase();
}

function sameHost(a: string, b: string): boolean {
  const strip = (h: string) => h.replace(/^\[|\]$/g, '').toLowerCase();
  return strip(a) === strip(b);
}

export function makeVerifyProc(
  currentPin: () => Pin | null,
  onMismatch: (host: string, fingerprint: string) => void,
): (request: VerifyRequest, callback: (verdict: number) => void) => void {
  return (request, callback) => {
    const pin = currentPin();
    if (!pin || !sameHost(request.hostname, pin.host)) return callback(VERIFY_FAIL);
    let got: string;
    try {
      got = certificateFingerprint(request.certificate.data);
    } catch {
      return callback(VERIFY_FAIL);
    }
    if (got === normalizeFingerprint(pin.fingerprint)) return callback(VERIFY_OK);
    onMismatch(request.hostname, got);
    callback(VERIFY_FAIL);
  };
}

/** Connects once to read the server's certificate fingerprint (nothing is sent). */
export function probeFingerprint(host: string, port: number, timeoutMs = PROBE_TIMEOUT_MS): Promise<string | null> {
  return new Promise((resolve) => {
    const bare = host.replace(/^\[|\]$/g, '');
    const socket = connect({
      host: bare,
      port,
      servername: isIP(bare) ? undefined : bare,
      // We read the certificate to show and pin it; trust is decided by the user, not a CA.
      rejectUnauthorized: false,
    });
    const done = (fp: string | null) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(fp);
    };
    const timer = setTimeout(() => done(null), timeoutMs);
    socket.once('secureConnect', () => {
      const cert = socket.getPeerX509Certificate();
      done(cert ? cert.fingerprint256.toUpperCase() : null);
    });
    socket.once('error', () => done(null));
  });
}
