/**
 * Which paths the encrypting client will send to. The server matches routes on exact paths and
 * refuses paths that are not in normal form, so a variant such as `/v1/chat/completions/`,
 * `/v1/chat//completions` or `/v1/chat%2Fcompletions` is not the encrypted route to it, and
 * behind a lenient host app it may be served all the same. The client therefore refuses such
 * paths before sending, and sends a body in clear only to a route it knows as plain or to a path
 * the caller declared plain.
 */
import { ContinuumError } from '../errors'

// Encoded slash, backslash and dot: each lets one path mean two routes to different parsers.
const ENCODED_SEPARATOR = /%(2f|5c|2e)/i
const BAD_PERCENT = /%(?![0-9a-fA-F]{2})/

/** Why a path is not in normal form, or undefined when it is. */
function pathProblem(path: string): string | undefined {
  if (!path.startsWith('/')) return 'does not start with /'
  if (path === '/') return undefined
  if (path.endsWith('/')) return 'ends with /'
  if (path.includes('//')) return 'has an empty segment'
  if (path.includes('\\')) return 'has a backslash'
  if (ENCODED_SEPARATOR.test(path)) return 'has an encoded slash, backslash or dot'
  if (BAD_PERCENT.test(path)) return 'has malformed percent-encoding'
  for (const segment of path.split('/')) if (segment === '.' || segment === '..') return 'has a dot segment'
  return undefined
}

/**
 * Whether a URL path is in normal form; with `refuse`, a path that is not throws
 * CONTINUUM_CLIENT_PATH_REFUSED instead.
 */
export function checkPathForm(path: string, refuse: boolean): boolean {
  const problem = pathProblem(path)
  if (problem === undefined) return true
  if (!refuse) return false
  throw new ContinuumError('CONTINUUM_CLIENT_PATH_REFUSED', `Refused to send to a path that ${problem}`, {
    details: { problem },
  })
}

/** Validates the `plainPaths` option once: each entry a path in normal form. */
export function validatePlainPaths(paths: readonly string[] | undefined): readonly string[] {
  if (paths === undefined) return []
  if (
    !Array.isArray(paths) ||
    paths.some((path) => typeof path !== 'string' || path === '/' || pathProblem(path) !== undefined)
  ) {
    throw new ContinuumError(
      'CONTINUUM_INVALID_OPTIONS',
      'createEncryptedFetch: plainPaths must be paths in normal form, such as "/v1/files"',
    )
  }
  return [...paths]
}

/** Whether a path in normal form ends with one of the declared plain paths. */
export function isPlainPath(plainPaths: readonly string[], path: string): boolean {
  return pathProblem(path) === undefined && plainPaths.some((plain) => path.endsWith(plain))
}
