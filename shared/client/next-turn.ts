/**
 * Runs `fn` once the current loop turn is over, after its promises have settled: what a burst
 * does in one turn can then be written or sent together. setImmediate in Node; browsers have
 * no such thing, and a zero timeout is the nearest.
 */
export const nextTurn: (fn: () => void) => void =
  // eslint-disable-next-line no-restricted-globals -- feature-detected: Node's, else a timeout
  typeof setImmediate === 'function' ? (fn) => void setImmediate(fn) : (fn) => void setTimeout(fn, 0);
