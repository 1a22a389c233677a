/**
 * A memoised loader for the parts of an adapter that only some setups run: a route's `modelText`
 * reader runs only under a scanner, so the built-in adapters import theirs on first use and a
 * proxy without a scanner never loads them. Every caller shares the first call's promise, so a
 * burst of first requests imports once; a load that fails is tried again on the next call rather
 * than failing every later request with the first error.
 */

/**
 * Returns a function that runs `load` on its first call and hands every later caller the same
 * promise.
 *
 * @example
 * const readers = loadOnce(() => import('./model-text'))
 * // in a route: modelText: (body) => readers().then((module) => module.chatModelText(body))
 */
export function loadOnce<T>(load: () => Promise<T>): () => Promise<T> {
  if (typeof load !== 'function') throw new TypeError('loadOnce takes a function')
  let loading: Promise<T> | undefined
  return () => {
    if (loading === undefined) {
      const attempt = Promise.resolve().then(load)
      loading = attempt
      attempt.catch(() => {
        if (loading === attempt) loading = undefined
      })
    }
    return loading
  }
}
