/**
 * The main process's IPC surface: every channel checks its sender (our page, top frame) and
 * parses its payload before doing anything.
 */
import type { IpcMain, IpcMainEvent, IpcMainInvokeEvent } from 'electron';
import type { z } from 'zod';
import {
  ChooseServerRequest,
  IPC_CHANNELS,
  NotifyRequest,
  SecretName,
  SecretSetRequest,
  SessionToken,
  type ChooseServerResult,
  type ExportDataResult,
  type ServerInfo,
} from '../ipc/contract.js';
import { isTrustedSender } from './security.js';

export interface IpcDeps {
  getServer(): ServerInfo | null;
  chooseServer(request: ChooseServerRequest): Promise<ChooseServerResult>;
  forgetServer(): boolean;
  notify(request: NotifyRequest): void;
  exportData(token: string): Promise<ExportDataResult>;
  secrets: {
    get(name: string): string | null;
    set(name: string, value: string): boolean;
    delete(name: string): boolean;
  };
}

export class IpcRefused extends Error {}

function parse<S extends z.ZodType>(schema: S, payload: unknown): z.infer<S> {
  const r = schema.safeParse(payload);
  if (!r.success) throw new IpcRefused('invalid payload');
  return r.data;
}

export function registerIpc(ipcMain: Pick<IpcMain, 'handle' | 'on'>, deps: IpcDeps, log: (msg: string) => void = () => {}): void {
  const handle = (channel: string, fn: (payload: unknown) => unknown) => {
    ipcMain.handle(channel, (event: IpcMainInvokeEvent, payload: unknown) => {
      if (!isTrustedSender(event.senderFrame)) {
        log(`ipc refused on ${channel}: untrusted sender`);
        throw new IpcRefused('untrusted sender');
      }
      return fn(payload);
    });
  };

  handle(IPC_CHANNELS.getServer, () => deps.getServer());
  handle(IPC_CHANNELS.chooseServer, (p) => deps.chooseServer(parse(ChooseServerRequest, p)));
  handle(IPC_CHANNELS.forgetServer, () => deps.forgetServer());
  handle(IPC_CHANNELS.secretGet, (p) => deps.secrets.get(parse(SecretName, p)));
  handle(IPC_CHANNELS.secretSet, (p) => {
    const { name, value } = parse(SecretSetRequest, p);
    return deps.secrets.set(name, value);
  });
  handle(IPC_CHANNELS.secretDelete, (p) => deps.secrets.delete(parse(SecretName, p)));
  handle(IPC_CHANNELS.exportData, (p) => deps.exportData(parse(SessionToken, p)));

  ipcMain.on(IPC_CHANNELS.notify, (event: IpcMainEvent, payload: unknown) => {
    if (!isTrustedSender(event.senderFrame)) {
      log(`ipc refused on ${IPC_CHANNELS.notify}: untrusted sender`);
      return;
    }
    const r = NotifyRequest.safeParse(payload);
    if (r.success) deps.notify(r.data);
  });
}
