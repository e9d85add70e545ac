/**
 * Content types of the web client's files, by extension: one table for the two places that
 * serve them (the authority's web server, the desktop app's app:// protocol). Pure data.
 */
export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
};

/** What a file is served as when its extension is not in the table. */
export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

export function contentTypeOf(extension: string): string {
  return Object.hasOwn(CONTENT_TYPES, extension) ? CONTENT_TYPES[extension]! : DEFAULT_CONTENT_TYPE;
}
