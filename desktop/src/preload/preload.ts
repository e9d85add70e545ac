/**
 * The preload bridge (sandboxed, context-isolated): a handful of named calls, no raw ipcRenderer,
 * no Node. Payloads are validated in the main process, not here.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { IPC_CHANNELS } from '../ipc/channels.js';
import type { DesktopApi } from '../ipc/contract.js';

const api: DesktopApi = {
  platform: process.platform,
  getServer: () => ipcRenderer.invoke(IPC_CHANNELS.getServer),
  chooseServer: (request) => ipcRenderer.invoke(IPC_CHANNELS.chooseServer, request),
  forgetServer: () => ipcRenderer.invoke(IPC_CHANNELS.forgetServer),
  notify: (request) => ipcRenderer.send(IPC_CHANNELS.notify, request),
  onNotificationClicked: (listener) => {
    const wrapped = (_event: IpcRendererEvent, target: unknown) => {
      if (typeof target === 'string') listener(target);
    };
    ipcRenderer.on(IPC_CHANNELS.notificationClicked, wrapped);
    return () => ipcRenderer.removeListener(IPC_CHANNELS.notificationClicked, wrapped);
  },
  secretGet: (name) => ipcRenderer.invoke(IPC_CHANNELS.secretGet, name),
  secretSet: (name, value) => ipcRenderer.invoke(IPC_CHANNELS.secretSet, { name, value }),
  secretDelete: (name) => ipcRenderer.invoke(IPC_CHANNELS.secretDelete, name),
  exportData: (token) => ipcRenderer.invoke(IPC_CHANNELS.exportData, token),
};

contextBridge.exposeInMainWorld('chandlerDesktop', api);
