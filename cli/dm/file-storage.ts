/**
 * The DM engine's storage in Node: one file per value in a directory only the user can open
 * (0700), each file readable only by them (0600), replaced atomically (write, fsync, rename).
 */
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { DmStorage } from '../../shared/client/dm/index.js';

const NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;

export class FileDmStorage implements DmStorage {
  private counter = 0;
  private ready: Promise<unknown> | null = null;

  constructor(readonly dir: string) {}

  private path(name: string): string {
    if (!NAME.test(name)) throw new TypeError(`FileDmStorage: bad name ${JSON.stringify(name)}`);
    return join(this.dir, name);
  }

  private ensureDir(): Promise<unknown> {
    this.ready ??= mkdir(this.dir, { recursive: true, mode: 0o700 });
    return this.ready;
  }

  async read(name: string): Promise<Uint8Array | null> {
    try {
      return new Uint8Array(await readFile(this.path(name)));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async write(name: string, data: Uint8Array): Promise<void> {
    const target = this.path(name);
    await this.ensureDir();
    const temp = `${target}.${process.pid}.${++this.counter}.tmp`;
    const file = await open(temp, 'w', 0o600);
    try {
      await file.writeFile(data);
      await file.sync();
    } finally {
      await file.close();
    }
    try {
      await rename(temp, target);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
  }

  async remove(name: string): Promise<void> {
    await rm(this.path(name), { force: true });
  }
}
