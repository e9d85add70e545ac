/**
 * Recording stand-ins for the few Electron objects the main process touches (the Electron
 * binary cannot run in CI). They keep what was registered so tests can drive it.
 */
type Listener = (...args: never[]) => unknown;

export class StubEmitter {
  readonly listeners = new Map<string, Listener[]>();
  on(event: string, fn: Listener): this {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), fn]);
    return this;
  }
  once(event: string, fn: Listener): this {
    return this.on(event, fn);
  }
  /** Fires an event; returns whether a listener called preventDefault on it. */
  fire(event: string, ...args: unknown[]): boolean {
    let prevented = false;
    const ev = { preventDefault: () => (prevented = true) };
    for (const fn of this.listeners.get(event) ?? []) (fn as (...a: unknown[]) => unknown)(ev, ...args);
    return prevented;
  }
  /** Fires an event whose first argument carries its own fields (e.g. will-frame-navigate's url). */
  fireDetailed(event: string, fields: Record<string, unknown>): boolean {
    let prevented = false;
    const ev = { ...fields, preventDefault: () => (prevented = true) };
    for (const fn of this.listeners.get(event) ?? []) (fn as (...a: unknown[]) => unknown)(ev);
    return prevented;
  }
}

export class StubWebContents extends StubEmitter {
  windowOpenHandler: ((details: { url: string }) => { action: string }) | null = null;
  setWindowOpenHandler(fn: (details: { url: string }) => { action: string }): void {
    this.windowOpenHandler = fn;
  }
}

export class StubSession extends StubEmitter {
  permissionRequest: ((wc: unknown, permission: string, cb: (ok: boolean) => void, details: { requestingUrl: string }) => void) | null = null;
  permissionCheck: ((wc: unknown, permission: string, origin: string) => boolean) | null = null;
  devicePermission: (() => boolean) | null = null;
  verifyProc: unknown = null;
  beforeRequest: ((details: { url: string }, cb: (r: { cancel: boolean }) => void) => void) | null = null;
  readonly webRequest = {
    onBeforeRequest: (fn: (details: { url: string }, cb: (r: { cancel: boolean }) => void) => void) => {
      this.beforeRequest = fn;
    },
  };
  setPermissionRequestHandler(fn: StubSession['permissionRequest']): void {
    this.permissionRequest = fn;
  }
  setPermissionCheckHandler(fn: StubSession['permissionCheck']): void {
    this.permissionCheck = fn;
  }
  setDevicePermissionHandler(fn: () => boolean): void {
    this.devicePermission = fn;
  }
  setCertificateVerifyProc(fn: unknown): void {
    this.verifyProc = fn;
  }

  /** What the permission request handler answers. */
  requestPermission(permission: string, requestingUrl: string): boolean {
    let answer: boolean | null = null;
    this.permissionRequest!(null, permission, (ok) => (answer = ok), { requestingUrl });
    if (answer === null) throw new Error('the permission handler never answered');
    return answer;
  }

  /** Whether a request to this URL is let through. */
  allows(url: string): boolean {
    let cancel: boolean | null = null;
    this.beforeRequest!({ url }, (r) => (cancel = r.cancel));
    if (cancel === null) throw new Error('the request filter never answered');
    return !cancel;
  }
}

/** A frame as IPC events carry it. */
export function frame(url: string, parent: unknown = null) {
  return { url, parent } as unknown as import('electron').WebFrameMain;
}
