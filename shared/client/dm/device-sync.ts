/**
 * A user's devices (issue 13 §2). All of them hold the account's one identity, so a DM relayed
 * or stored by the authority reaches each of them (the authority keeps a stored envelope until
 * every device has it). What one device alone saw — a DM it sent, one it received over a direct
 * channel — it copies to the others: sealed to the user's own key (the authority routes it and
 * cannot read it), kept by the authority until each of the other devices has it.
 *
 * Each installation names itself with a random id (not a secret, kept beside the identity) and a
 * name for people ("CLI on build-01", "Chromium on Linux"), told to the authority at every
 * session start: the user lists and revokes devices with it.
 */
import { createChannelKeys, publicIdentity, sealEnvelope, utf8Decode, utf8Encode, type ChannelKeys, type DmBody, type DmPlaintext } from '../../crypto/index.js';
import { DeviceId, LIMITS, type DeviceInfo, type Outcome } from '../../protocol/index.js';
import { newClientId } from '../client.js';
import type { DmContext } from './context.js';
import { peerKey } from './peer-key.js';
import type { DmRecord } from './types.js';

export function deviceFileName(username: string): string {
  return `device-${peerKey(username)}.json`;
}

const DEFAULT_DEVICE_NAME = 'CHandler';

type CopyBody = Extract<DmBody, { kind: 'sync' }>;

/** A DM of my history as a copy for my other devices (the envelope's id and ts are the DM's). */
export function copyOf(record: DmRecord): { id: string; ts: number; body: CopyBody } {
  return { id: record.id, ts: record.ts, body: { kind: 'sync', peer: record.peer, direction: record.direction, text: record.text, path: record.path } };
}

/** The DM a copy from another of my devices stands for, as this device's history keeps it. */
export function recordOfCopy(me: string, message: Pick<DmPlaintext, 'id' | 'ts'> & { body: CopyBody }): DmRecord {
  const { id, ts, body } = message;
  const out = body.direction === 'out';
  return {
    id,
    peer: body.peer,
    direction: body.direction,
    author: out ? me : body.peer,
    text: body.text,
    ts,
    path: body.path,
    status: out ? 'sent' : 'received',
  };
}

export class DeviceSync {
  private id: string | null = null;
  /** False once the authority said no other device of mine exists (until it says one was added). */
  private othersExist = true;
  private readonly copied = new Set<string>();
  private selfKeys: { keyId: string; keys: ChannelKeys } | null = null;

  constructor(private readonly ctx: DmContext) {}

  get deviceId(): string | null {
    return this.id;
  }

  /** This installation's id, made at its first unlock and kept in its storage. */
  private async ownId(username: string): Promise<string> {
    if (this.id) return this.id;
    const name = deviceFileName(username);
    const stored = await this.ctx.options.storage.read(name);
    let id: string | null = null;
    if (stored) {
      try {
        const parsed = DeviceId.safeParse((JSON.parse(utf8Decode(stored) ?? '') as { id?: unknown }).id);
        if (parsed.success) id = parsed.data;
      } catch {
        // damaged: a new id (the old one is forgotten by the authority in time)
      }
    }
    if (!id) {
      id = newClientId();
      await this.ctx.options.storage.write(name, utf8Encode(JSON.stringify({ id, createdAt: Date.now() })));
    }
    this.id = id;
    return id;
  }

  /** Tells the authority which device this session is (each session start, before the backlog is asked for). */
  async hello(): Promise<void> {
    const me = this.ctx.me;
    if (!me) return;
    const deviceId = await this.ownId(me.username);
    const name = (this.ctx.options.deviceName ?? DEFAULT_DEVICE_NAME).replace(/\s+/g, ' ').trim().slice(0, LIMITS.maxDeviceNameChars);
    const r = await this.ctx.client.call('helloDevice', { deviceId, name: name || DEFAULT_DEVICE_NAME });
    if (!r.ok) this.ctx.log('device_hello_failed', { code: r.error.code });
    this.othersExist = true;
  }

  /** A device of mine connected, was added or revoked: copies may have somewhere to go again. */
  devicesChanged(): void {
    this.othersExist = true;
  }

  /** The keys that seal a copy to my own identity (and open one). */
  keysForMe(): ChannelKeys | null {
    const me = this.ctx.me;
    if (!me) return null;
    if (this.selfKeys?.keyId !== me.identity.keyId) {
      const self = { username: me.username, identity: me.identity };
      this.selfKeys = { keyId: me.identity.keyId, keys: createChannelKeys(self, { username: me.username, identity: publicIdentity(me.identity) }) };
    }
    return this.selfKeys.keys;
  }

  /** Copies a DM this device sent, or received directly, to my other devices (once per DM and run). */
  copy(record: DmRecord): void {
    if (!this.othersExist || this.copied.has(record.id) || !this.ctx.ready) return;
    const keys = this.keysForMe();
    if (!keys) return;
    this.copied.add(record.id);
    const wire = sealEnvelope(keys, copyOf(record));
    void this.ctx.client.call('syncDm', { envelope: wire }).then((r) => {
      if (r.ok) {
        if (!r.value.stored) this.othersExist = false;
        return;
      }
      // Not copied (offline, rate-limited): tried again when it is sent or received again.
      this.copied.delete(record.id);
      this.ctx.log('device_copy_failed', { code: r.error.code });
    });
  }

  list(): Promise<Outcome<DeviceInfo[]>> {
    return this.ctx.client.call('listDevices', {}).then((r) => (r.ok ? { ok: true, value: r.value.devices } : r));
  }

  revoke(deviceId: string): Promise<Outcome<unknown>> {
    return this.ctx.client.call('revokeDevice', { deviceId });
  }
}
