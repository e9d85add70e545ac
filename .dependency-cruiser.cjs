/**
 * `npm run lint`'s cycle check (dependency-cruiser): no import cycle anywhere in our code, type-only
 * imports included. ESLint's import-x/no-cycle ignores `import type`, yet a type-only cycle still
 * ties two layers together (admin/ naming the concrete server, say). The layer boundaries
 * themselves are in eslint.config.js.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-cycle',
      severity: 'error',
      comment:
        'an import cycle (type-only imports count): modules that need each other are one module, or share a third one that both import',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|desktop/dist)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
