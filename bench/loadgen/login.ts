/**
 * Logging in over one open socket, as the client core does it: OPAQUE (loginStart, the client's
 * finish with the key stretching the authority names, loginFinish); or, for an account from
 * before OPAQUE, loginStart (answered `legacy`) and legacyLogin, the scrypt check of its
 * password, where the measure stops: its registerFinish (the move to OPAQUE) is never sent, so
 * the account stays on scrypt and the next round measures the same login again; or the
 * baseline's one-frame login. A BUSY answer is waited out as told, as the client core does.
 */
import type { z } from 'zod';
import { finishLogin, startLogin, startRegistration } from '../../shared/crypto/opaque.js';
import { ReplyFrame, REQUESTS } from '../../shared/protocol/index.js';
import { sleep } from '../clock.js';

export type LoginKind = 'opaque' | 'legacy' | 'baseline';

/** Sends one request (numbered by the callee) and resolves with its reply frame, parsed JSON. */
export type Ask = (body: Record<string, unknown>) => Promise<unknown>;

/** The client core's bounds on the wait a BUSY answer asks for. */
const BUSY_MIN_MS = 50;
const BUSY_MAX_MS = 5000;

/** The result of a success; BUSY is retried after the wait it names; any other failure throws its code. */
async function patiently(ask: Ask, body: Record<string, unknown>): Promise<unknown> {
  for (;;) {
    const reply = ReplyFrame.safeParse(await ask(body));
    if (!reply.success) throw new Error('BAD_REPLY');
    if (reply.data.ok) return reply.data.result;
    const { code, until } = reply.data.error;
    if (code !== 'BUSY') throw new Error(code);
    await sleep(Math.min(BUSY_MAX_MS, Math.max(BUSY_MIN_MS, (until ?? 0) - Date.now())));
  }
}

function parsed<T>(schema: z.ZodType<T>, result: unknown): T {
  const r = schema.safeParse(result);
  if (!r.success) throw new Error('BAD_REPLY');
  return r.data;
}

/** Comes back with a seeded session (no password work). */
export async function resume(ask: Ask, token: string): Promise<void> {
  await patiently(ask, { type: 'resume', token });
}

/** Resolves once logged in (legacy: once the password is checked); throws an Error named by the failure's code. */
export async function logIn(ask: Ask, kind: LoginKind, username: string, password: string, extra: Record<string, unknown> = {}): Promise<void> {
  if (kind === 'baseline') {
    await patiently(ask, { type: 'login', username, password, ...extra });
    return;
  }
  const started = await startLogin(password);
  const first = parsed(REQUESTS.loginStart.result, await patiently(ask, { type: 'loginStart', username, startLoginRequest: started.request, ...extra }));
  if ('legacy' in first) {
    if (kind !== 'legacy') throw new Error('UNEXPECTED_LEGACY');
    const registration = await startRegistration(password);
    parsed(REQUESTS.legacyLogin.result, await patiently(ask, { type: 'legacyLogin', password, registrationRequest: registration.request }));
    return;
  }
  if (kind === 'legacy') throw new Error('NOT_LEGACY');
  const proof = await finishLogin(started, first.loginResponse, password, first.ksf);
  if (!proof) throw new Error('WRONG_CREDENTIALS');
  parsed(REQUESTS.loginFinish.result, await patiently(ask, { type: 'loginFinish', finishLoginRequest: proof.finishLoginRequest }));
}
