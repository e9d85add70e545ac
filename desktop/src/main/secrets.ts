/**
 * Small secrets (the session token) encrypted with the OS keychain through Electron's
 * safeStorage. Where only an obfuscating fallback exists (Linux without a keyring), nothing is
 * stored: the user logs in again instead.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SafeStorage } from 'electron';

type Vault = Pick<SafeStorage, 'isEncryptionAvailable' | 'encryptString' | 'decryptString'> & {
  getSelectedStorageBackend?: SafeStorage['getSelectedStorageBackend'];
};

export class SecretStore {
  constructor(
    private readonly file: string,
    private readonly vault: Vault,
    private readonly platform: NodeJS.Platform = process.platform,
  ) {}

  get available(): boolean {
    if (!this.vault.isEncryptionAvailable()) return false;
    if (this.platform === 'linux' && this.vault.getSelectedStorageBackend?.() === 'basic_text') return false;
    return true;
  }

  private readAll(): Record<string, string> {
    if (!existsSync(this.file)) return {};
    try {
      const data: unknown = JSON.parse(readFileSync(this.file, 'utf8'));
      if (!data || typeof data !== 'object' || Array.isArray(data)) return {};
      return Object.fromEntries(Object.entries(data).filter((e): e is [string, string] => typeof e[1] === 'string'));
    } catch {
      return {};
    }
  }

  private writeAll(all: Record<string, string>): void {
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(all), { mode: 0o600 });
    renameSync(tmp, this.file);
  }

  get(name: string): string | null {
    if (!this.available) return null;
    const sealed = this.readAll()[name];
    if (!sealed) return null;
    try {
      return this.vault.decryptString(Buffer.from(sealed, 'base64'));
    } catch {
      return null;
    }
  }

  set(name: string, value: string): boolean {
    if (!this.available) return false;
    const all = this.readAll();
    all[name] = this.vault.encryptString(value).toString('base64');
    this.writeAll(all);
    return true;
  }

  delete(name: string): boolean {
    const all = this.readAll();
    if (!(name in all)) return false;
    delete all[name];
    this.writeAll(all);
    return true;
  }

  clear(): void {
    this.writeAll({});
  }
}
