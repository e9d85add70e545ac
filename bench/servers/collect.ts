/** Garbage collection on request, for the memory figures. */

/**
 * Full collections of the "last resort" kind (what V8 does on a low-memory notification): they
 * also give V8's free pages back to the system, so that the RSS the bench reads next is the
 * memory in use, not what V8 happened to keep around. Needs --expose-gc (the bench passes it).
 */
export function collect(): NodeJS.MemoryUsage {
  const gc = (globalThis as { gc?: (options?: object) => void }).gc;
  for (let i = 0; i < 2; i++) gc?.({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  return process.memoryUsage();
}
