/** Types for the browser builds imported by path (their packages type only the Node entry). */
declare module 'sql.js/dist/sql-asm.js' {
  import type { SqlJsConfig, SqlJsStatic } from 'sql.js';
  const initSqlJs: (config?: SqlJsConfig) => Promise<SqlJsStatic>;
  export default initSqlJs;
}

declare module 'simple-peer/simplepeer.min.js' {
  import SimplePeer from 'simple-peer';
  export default SimplePeer;
}
