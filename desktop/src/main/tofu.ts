/** Choosing a server: parse the address, read its certificate, let the user confirm, pin it. */
import type { ChooseServerRequest, ChooseServerResult, ServerInfo, UiLanguage } from '../ipc/contract.js';
import { parseServerAddress, type PinnedServer, type ServerStore } from './server-config.js';

export interface TofuDeps {
  servers: Pick<ServerStore, 'preset' | 'save'>;
  probe: (host: string, port: number) => Promise<string | null>;
  /** Shows the fingerprint and asks; true when the user trusts it. */
  confirm: (server: { host: string; port: number; url: string }, fingerprint: string, lang: UiLanguage) => Promise<boolean>;
}

export function toServerInfo(s: PinnedServer): ServerInfo {
  return { url: s.url, fingerprint: s.fingerprint, preset: s.preset };
}

export async function chooseServer(request: ChooseServerRequest, deps: TofuDeps): Promise<ChooseServerResult> {
  if (deps.servers.preset()) return { ok: false, reason: 'preset' };
  const address = parseServerAddress(request.address);
  if (!address) return { ok: false, reason: 'invalid-address' };
  const fingerprint = await deps.probe(address.host, address.port);
  if (!fingerprint) return { ok: false, reason: 'unreachable' };
  if (!(await deps.confirm(address, fingerprint, request.lang))) return { ok: false, reason: 'declined' };
  return { ok: true, server: toServerInfo(deps.servers.save(address, fingerprint)) };
}
