/**
 * What differs between the two homes of the renderer: in a browser the authority that served
 * the page is the server, the session token lives in localStorage and notifications use the
 * Web Notification API; in Electron the preload bridge provides all three.
 */
import { neutraliseBidi } from '../../../shared/display-text.js';
import type { SocketLike } from '../../../shared/client/index.js';
import type { DesktopApi, ExportDataResult, NotifyRequest } from '../ipc/contract.js';

declare global {
  interface Window {
    chandlerDesktop?: DesktopApi;
  }
}

export const desktop: DesktopApi | null = typeof window !== 'undefined' ? (window.chandlerDesktop ?? null) : null;

export const CLIENT_VERSION = desktop ? 'chandler-desktop/2.0.0' : 'chandler-web/2.0.0';

/** The authority's WebSocket at the origin that served this page. */
export function pageServerUrl(): string {
  const scheme = location.protocol === 'http:' ? 'ws' : 'wss';
  return `${scheme}://${location.host}/ws`;
}

/** The browser's WebSocket, shaped as the client core's SocketLike. */
export function browserSocket(url: string): SocketLike {
  const ws = new WebSocket(url);
  const socket: SocketLike = {
    get readyState() {
      return ws.readyState;
    },
    send: (data) => ws.send(data),
    close: (code, reason) => ws.close(code, reason),
    onopen: null,
    onmessage: null,
    onclose: null,
    onerror: null,
  };
  ws.onopen = (ev) => socket.onopen?.(ev);
  ws.onmessage = (ev) => socket.onmessage?.({ data: ev.data });
  ws.onclose = (ev) => socket.onclose?.({ code: ev.code, reason: ev.reason });
  ws.onerror = (ev) => socket.onerror?.(ev);
  return socket;
}

/**
 * The authority's GDPR export (GET /api/export) with this session token: same-origin in a
 * browser; in Electron through main, which holds the pin (see desktop/src/main/export.ts).
 */
export async function fetchServerExport(token: string): Promise<ExportDataResult> {
  if (desktop) return desktop.exportData(token);
  let res: Response;
  try {
    res = await fetch('/api/export', { headers: { Authorization: `Bearer ${token}` }, cache: 'no-store' });
  } catch {
    return { ok: false, reason: 'unreachable' };
  }
  if (res.status !== 200) return { ok: false, reason: 'refused', status: res.status };
  try {
    return { ok: true, body: await res.text() };
  } catch {
    return { ok: false, reason: 'unreachable' };
  }
}

const TOKEN_KEY = 'chandler.session';
const DESKTOP_TOKEN_SECRET = 'session-token';

/** Where the session token is kept between launches. */
export const tokenVault = {
  async load(): Promise<string | null> {
    if (desktop) return desktop.secretGet(DESKTOP_TOKEN_SECRET);
    try {
      return localStorage.getItem(TOKEN_KEY);
    } catch {
      return null;
    }
  },
  async save(token: string): Promise<void> {
    if (desktop) {
      await desktop.secretSet(DESKTOP_TOKEN_SECRET, token);
      return;
    }
    try {
      localStorage.setItem(TOKEN_KEY, token);
    } catch {
      /* private mode: the session simply does not survive a reload */
    }
  },
  async clear(): Promise<void> {
    if (desktop) {
      await desktop.secretDelete(DESKTOP_TOKEN_SECRET);
      return;
    }
    try {
      localStorage.removeItem(TOKEN_KEY);
    } catch {
      /* nothing stored */
    }
  },
};

export type NotificationAccess = 'granted' | 'default' | 'denied' | 'unsupported';

export function notificationAccess(): NotificationAccess {
  if (desktop) return 'granted';
  if (typeof Notification === 'undefined') return 'unsupported';
  return Notification.permission;
}

export async function askNotificationAccess(): Promise<NotificationAccess> {
  if (desktop) return 'granted';
  if (typeof Notification === 'undefined') return 'unsupported';
  return Notification.requestPermission();
}

/**
 * Shows a desktop notification; `onClick` runs when the user clicks it (browser version). Its
 * title and body carry other people's text: bidi controls become markers there too.
 */
export function showNotification(raw: NotifyRequest, onClick: () => void): void {
  const request = { ...raw, title: neutraliseBidi(raw.title), body: neutraliseBidi(raw.body) };
  if (desktop) {
    desktop.notify(request);
    return;
  }
  if (notificationAccess() !== 'granted') return;
  const n = new Notification(request.title, { body: request.body, tag: request.target, silent: false });
  n.onclick = () => {
    window.focus();
    onClick();
    n.close();
  };
}
