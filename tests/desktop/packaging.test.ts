/**
 * The packaged app: electron-builder's config is valid for its schema, flips the security fuses,
 * targets Linux and Windows and ships only the bundles; the bundles need nothing but Electron
 * and Node built-ins (a sandboxed preload may require only "electron").
 */
import { readFileSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/authority.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const config = JSON.parse(readFileSync(join(ROOT, 'desktop', 'electron-builder.json'), 'utf8')) as Record<string, unknown> & {
  electronFuses: Record<string, boolean>;
  directories: Record<string, string>;
  files: string[];
  linux: { target: string[] };
  win: { target: string[] };
};
const scheme = JSON.parse(readFileSync(join(ROOT, 'node_modules', 'app-builder-lib', 'scheme.json'), 'utf8')) as {
  properties: Record<string, unknown>;
  definitions: { FuseOptionsV1: { properties: Record<string, unknown> } };
};
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { main: string; scripts: Record<string, string> };

describe('electron-builder config', () => {
  it('uses only keys electron-builder knows', () => {
    expect(Object.keys(config).filter((k) => !(k in scheme.properties))).toEqual([]);
    expect(Object.keys(config.electronFuses).filter((k) => !(k in scheme.definitions.FuseOptionsV1.properties))).toEqual([]);
  });

  it('flips the fuses: no run-as-node, no NODE_OPTIONS or inspector, app only from a verified asar', () => {
    expect(config.electronFuses).toEqual({
      runAsNode: false,
      enableCookieEncryption: true,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      loadBrowserProcessSpecificV8Snapshot: false,
      grantFileProtocolExtraPrivileges: false,
    });
    expect(config.asar).toBe(true);
  });

  it('makes Linux and Windows packages of the bundles only', () => {
    expect(config.linux.target).toEqual(['AppImage', 'deb']);
    expect(config.win.target).toEqual(['nsis']);
    expect(config.directories.app).toBe('desktop/dist');
    expect(config.files).toEqual(['main/**', 'preload/**', 'renderer/**', 'package.json']);
    expect(pkg.scripts.package).toContain('--config desktop/electron-builder.json --linux --win');
  });
});

describe('the desktop build', () => {
  let dist: string;
  beforeAll(async () => {
    dist = tempDir('chandler-desktop-build-');
    const { buildDesktop } = await import('../../desktop/build.js');
    await buildDesktop(dist);
  }, 120_000);
  afterAll(() => rmSync(dist, { recursive: true, force: true }));

  const allowed = new Set(['electron', ...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

  it('bundles the main process: it imports only electron and Node built-ins', () => {
    const main = readFileSync(join(dist, 'main', 'main.mjs'), 'utf8');
    const imports = [...main.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]!);
    expect(imports.length).toBeGreaterThan(0);
    expect(imports.filter((m) => !allowed.has(m))).toEqual([]);
    expect(main).not.toMatch(/\brequire\(/);
  });

  it('bundles the preload as CommonJS that requires only electron', () => {
    const preload = readFileSync(join(dist, 'preload', 'preload.cjs'), 'utf8');
    expect([...preload.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1])).toEqual(['electron']);
    expect(preload).toContain('exposeInMainWorld("chandlerDesktop"');
    expect(preload).not.toMatch(/^import /m);
  });

  it('writes the app manifest the package and `npm run desktop` start from', () => {
    const manifest = JSON.parse(readFileSync(join(dist, 'package.json'), 'utf8')) as { main: string; productName: string };
    expect(manifest.main).toBe('main/main.mjs');
    expect(manifest.productName).toBe('CHandler');
    expect(pkg.main).toBe('desktop/dist/main/main.mjs');
    expect(pkg.scripts.desktop).toBe('npm run build:desktop && electron .');
  });

  it('emits a renderer with no inline script or style (the CSP forbids them)', () => {
    const html = readFileSync(join(dist, 'renderer', 'index.html'), 'utf8');
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|\sstyle=/);
    expect(html).toMatch(/<script type="module" crossorigin src="\.\/assets\/index-[\w-]+\.js"><\/script>/);
  });
});
