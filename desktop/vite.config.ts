/**
 * Builds the renderer once for both of its homes: Electron loads it from app://chandler/ and the
 * authority serves it at "/". Both apply a strict CSP (scripts and styles from 'self' only), so the
 * build must emit no inline script or style: relative asset paths, CSS in files, no preload polyfill.
 */
import { resolve } from 'node:path';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

export const RENDERER_ROOT = resolve(import.meta.dirname, 'src', 'renderer');
export const RENDERER_OUT = resolve(import.meta.dirname, 'dist', 'renderer');

export default defineConfig({
  root: RENDERER_ROOT,
  base: './',
  plugins: [react()],
  logLevel: 'warn',
  resolve: {
    // sql.js's asm.js build names fs and crypto in its Node-only branches.
    alias: [{ find: /^(node:)?(fs|crypto|path)$/, replacement: resolve(RENDERER_ROOT, 'dm', 'node-stub.ts') }],
  },
  build: {
    outDir: RENDERER_OUT,
    emptyOutDir: true,
    target: 'es2022',
    // Inline data: URIs and the module-preload polyfill would both be inline content.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    cssCodeSplit: false,
    sourcemap: false,
    reportCompressedSize: false,
    // The DM chunk holds sql.js's asm.js build (1.4 MB), loaded only when direct messages start.
    chunkSizeWarningLimit: 2048,
  },
});
