// Lint: eslint's recommended rules and typescript-eslint's over every TypeScript source, and the
// architecture's boundaries as rules (eslint-plugin-import-x): which layer may use which, and no
// import cycle anywhere. Each message says who may not use what, and why.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import { builtinModules } from 'node:module';

/** Node's built-in modules and the packages that run only in Node or only in a browser/Electron. */
const RUNTIME_BOUND_MODULES = [
  ...builtinModules,
  'ws',
  'better-sqlite3',
  'wrtc',
  '@roamhq/wrtc',
  'electron',
  'react',
  'react-dom',
  'selfsigned',
  'playwright-core',
  'tsx',
  'vite',
];
const escape = (name) => name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
/** A bare specifier naming one of them (or a subpath of one), or any `node:` module. */
const RUNTIME_BOUND_IMPORT = `^(node:.*|(${RUNTIME_BOUND_MODULES.map(escape).join('|')})(/.*)?)$`;

/** Globals that exist in only one runtime. */
const RUNTIME_BOUND_GLOBALS = [
  'window',
  'document',
  'localStorage',
  'sessionStorage',
  'indexedDB',
  'navigator',
  'process',
  'Buffer',
  'require',
  'module',
  '__dirname',
  '__filename',
  'global',
  'setImmediate',
].map((name) => ({
  name,
  message: 'shared/ is runtime-neutral (Node, Electron and browsers run it): take what you need as an injected dependency',
}));

/** The layers, and who may not use whom (paths from the project root). */
const BOUNDARIES = [
  {
    target: './shared/protocol',
    from: './',
    except: ['./shared/protocol', './node_modules'],
    message:
      'shared/protocol is the wire itself: it may import only other shared/protocol modules and packages, so that every side can depend on it without pulling anything else in',
  },
  {
    target: './shared',
    from: './',
    except: ['./shared', './node_modules'],
    message:
      'shared/ (protocol, crypto, client core) runs in the authority, the CLI, Electron and browsers: it may not import anything outside shared/ (not authority/, desktop/, cli/, bench/, tests/)',
  },
  {
    target: './desktop/src/renderer',
    from: './authority',
    message: 'the renderer runs in a browser and talks to the authority over the wire only: use shared/protocol and shared/client, never authority/',
  },
  {
    target: './desktop/src/renderer',
    from: ['./desktop/src/main', './desktop/src/preload'],
    message: 'the renderer runs sandboxed in a browser: it reaches Electron only through the preload bridge (desktop/src/ipc contract), never by importing main/ or preload/',
  },
  {
    target: './authority/src/handlers',
    from: [
      './authority/src/admin',
      './authority/src/server.ts',
      './authority/src/dispatch.ts',
      './authority/src/services.ts',
      './authority/src/main.ts',
    ],
    message:
      'handlers/ hold what the authority does and are called by the transport and the console: they may not import admin/ (a front-end), server.ts or dispatch.ts (the transport that calls them), services.ts (they see it as context.ts\'s Services) or main.ts (the wiring)',
  },
  {
    target: './authority/src/handlers',
    from: './authority/src/handlers',
    message:
      'handlers never import each other: move an operation two handlers share into a small module beside handlers/ (or raise an event)',
  },
  {
    target: './authority/src/admin',
    from: ['./authority/src/server.ts', './authority/src/services.ts', './authority/src/dispatch.ts', './authority/src/main.ts'],
    message:
      'admin/ (console, control socket) parses a line, calls handlers/ and formats the answer: it sees the authority through the interfaces in context.ts, never the concrete server.ts, services.ts, dispatch.ts or main.ts',
  },
  {
    target: './cli',
    from: './authority',
    message: 'the CLI is a client: it speaks the wire (shared/) and may not import the server (authority/); put shared Node helpers in terminal/',
  },
  {
    target: './terminal',
    from: ['./authority', './cli', './desktop'],
    message: 'terminal/ holds Node terminal helpers shared by the authority tools and the CLI: it may not depend on either',
  },
];

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'desktop/dist/', 'test-results/', 'bench/results/', 'bench/cache/', 'data/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-console': 'off',
    },
  },
  {
    files: ['**/*.ts', '**/*.tsx', '**/*.mjs'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-restricted-paths': ['error', { zones: BOUNDARIES }],
    },
  },
  {
    files: ['shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: RUNTIME_BOUND_IMPORT,
              message:
                'shared/ is runtime-neutral (Node, Electron and browsers run it): this module exists in only one runtime; take it as an injected dependency',
            },
          ],
        },
      ],
      'no-restricted-globals': ['error', ...RUNTIME_BOUND_GLOBALS],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } },
  },
);
