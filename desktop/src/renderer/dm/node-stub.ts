/**
 * Stands in for the Node built-ins sql.js's asm.js build mentions in branches that run only
 * under Node; in the renderer they are never reached.
 */
export default {};
