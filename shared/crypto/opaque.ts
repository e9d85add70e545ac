/**
 * The client half of OPAQUE (RFC 9807, @serenity-kit/opaque: opaque-ke in WebAssembly, suite
 * ristretto255 / SHA-512, Argon2id key stretching): the password stays here; the authority gets
 * blinded values and a registration record, and this side gets an `exportKey` that only the
 * password's holder can compute (what seals the device's keys at rest).
 *
 * Why this library: it implements the final RFC (its peer, @cloudflare/opaque-ts, stops at
 * draft 07, with no release since 2024), it runs the same in Node, Chromium and Electron, its
 * key stretching is a real memory-hard Argon2id with parameters of our choosing, and a login
 * costs the server ~2 ms (measured: docs/SECURITY.md). Its one cost: WebAssembly, so the web
 * client's CSP allows 'wasm-unsafe-eval' (and nothing else more).
 */
import * as opaque from '@serenity-kit/opaque';
import type { OpaqueKsf } from '../protocol/index.js';

function stretching(ksf: OpaqueKsf) {
  return { 'argon2id-custom': { iterations: ksf.iterations, memory: ksf.memory, parallelism: ksf.parallelism } } as const;
}

export interface Started {
  /** This side's secret state until the finish: never sent. */
  state: string;
  /** For the authority. */
  request: string;
}

export async function startRegistration(password: string): Promise<Started> {
  await opaque.ready;
  const r = opaque.client.startRegistration({ password: password.normalize('NFC') });
  return { state: r.clientRegistrationState, request: r.registrationRequest };
}

/** The record for the authority and the export key; null when the response does not parse. */
export async function finishRegistration(
  started: Started,
  registrationResponse: string,
  password: string,
  ksf: OpaqueKsf,
): Promise<{ record: string; exportKey: Uint8Array } | null> {
  await opaque.ready;
  try {
    const r = opaque.client.finishRegistration({
      clientRegistrationState: started.state,
      registrationResponse,
      password: password.normalize('NFC'),
      keyStretching: stretching(ksf),
    });
    return { record: r.registrationRecord, exportKey: fromBase64Url(r.exportKey) };
  } catch {
    return null;
  }
}

export async function startLogin(password: string): Promise<Started> {
  await opaque.ready;
  const r = opaque.client.startLogin({ password: password.normalize('NFC') });
  return { state: r.clientLoginState, request: r.startLoginRequest };
}

/**
 * The proof for the authority and the export key, or null: the password is wrong (or the
 * account unknown: the authority's fake response fails the same way), or the response is bad.
 */
export async function finishLogin(
  started: Started,
  loginResponse: string,
  password: string,
  ksf: OpaqueKsf,
): Promise<{ finishLoginRequest: string; exportKey: Uint8Array } | null> {
  await opaque.ready;
  try {
    const r = opaque.client.finishLogin({
      clientLoginState: started.state,
      loginResponse,
      password: password.normalize('NFC'),
      keyStretching: stretching(ksf),
    });
    return r ? { finishLoginRequest: r.finishLoginRequest, exportKey: fromBase64Url(r.exportKey) } : null;
  } catch {
    return null;
  }
}

/** The library's keys are base64url without padding. */
function fromBase64Url(text: string): Uint8Array {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(bin, (ch) => ch.charCodeAt(0));
}
