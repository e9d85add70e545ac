/**
 * Builds the desktop app into desktop/dist: the renderer (also served by the authority), the
 * Electron main process (ESM) and the sandboxed preload (CommonJS, the only format a sandboxed
 * preload may use), each bundled so that the packaged app needs no node_modules. Also writes
 * dist/package.json, the app manifest electron-builder packages.
 *
 *   npx tsx desktop/build.ts            renderer + main + preload
 *   npx tsx desktop/build.ts --web      renderer only (what the authority serves)
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, resolve } from 'node:path';
import { build, type InlineConfig } from 'vite';

const DESKTOP = import.meta.dirname;
const ROOT = resolve(DESKTOP, '..');
const DIST = join(DESKTOP, 'dist');
const NODE_TARGET = 'node22'; // the Node.js inside Electron 45

const external = ['electron', ...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

function nodeBundle(entry: string, outDir: string, format: 'es' | 'cjs', fileName: string): InlineConfig {
  return {
    configFile: false,
    root: ROOT,
    logLevel: 'warn',
    build: {
      ssr: entry,
      outDir,
      emptyOutDir: true,
      target: NODE_TARGET,
      minify: false,
      sourcemap: false,
      rollupOptions: { external, output: { format, entryFileNames: fileName } },
    },
    ssr: { noExternal: true, target: 'node' },
  };
}

export async function buildRenderer(outDir: string = join(DIST, 'renderer')): Promise<void> {
  await build({
    configFile: join(DESKTOP, 'vite.config.ts'),
    logLevel: 'warn',
    build: { outDir, emptyOutDir: true },
  });
}

/** Everything the packaged app holds, into `dist` (desktop/dist unless a test asks elsewhere). */
export async function buildDesktop(dist: string = DIST): Promise<void> {
  await buildRenderer(join(dist, 'renderer'));
  await build(nodeBundle(join(DESKTOP, 'src/main/main.ts'), join(dist, 'main'), 'es', 'main.mjs'));
  await build(nodeBundle(join(DESKTOP, 'src/preload/preload.ts'), join(dist, 'preload'), 'cjs', 'preload.cjs'));
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; description?: string };
  mkdirSync(dist, { recursive: true });
  writeFileSync(
    join(dist, 'package.json'),
    JSON.stringify(
      {
        name: 'chandler-desktop',
        productName: 'CHandler',
        version: pkg.version,
        description: pkg.description ?? 'CHandler',
        author: 'CHandler',
        license: 'UNLICENSED',
        main: 'main/main.mjs',
      },
      null,
      2,
    ) + '\n',
  );
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const webOnly = process.argv.includes('--web');
  const started = Date.now();
  await (webOnly ? buildRenderer() : buildDesktop());
  console.log(`built ${webOnly ? 'the web client' : 'the desktop app'} in ${Date.now() - started} ms → ${webOnly ? join(DIST, 'renderer') : DIST}`);
}
