/**
 * The readings of a path that some server on the way could make: an absolute-form target
 * (`http://host/v1/...`, RFC 9112 §3.2.2) read by its path, as Express, Koa, Fastify and the
 * inference servers route it; percent-decoded (up to three times, as chains of proxies may each
 * decode once), backslashes read as slashes, path parameters (`;x`) dropped, dot segments
 * resolved, empty segments collapsed, and all of that lower-cased; a `%` that does not decode
 * stands for any character.
 * With `unknownRoutes: 'next'` the proxy leaves an ambiguous path to the host app only when none
 * of its readings is one of the proxy's own paths; otherwise it is refused with 400 as before, so
 * no variant of an encrypted route or a pass-through prefix reaches the upstream or the host app.
 */

const ENCODED_BYTE = /%([0-9A-Fa-f]{2})/g
/** The scheme and authority of an absolute-form request target. */
const ABSOLUTE_FORM = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/

function decodeOnce(path: string): string {
  return path.replace(ENCODED_BYTE, (_match, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)))
}

/** The normalised readings of a path (without its query), the exact one first. */
export function pathReadings(path: string): string[] {
  const origin = ABSOLUTE_FORM.exec(path)?.[0]
  let decoded = origin === undefined ? path : path.slice(origin.length)
  for (let round = 0; round < 3; round++) {
    const next = decodeOnce(decoded)
    if (next === decoded) break
    decoded = next
  }
  const segments: string[] = []
  for (const raw of decoded.replace(/\\/g, '/').split('/')) {
    const semicolon = raw.indexOf(';')
    const segment = semicolon === -1 ? raw : raw.slice(0, semicolon)
    if (segment === '' || segment === '.') continue
    if (segment === '..') segments.pop()
    else segments.push(segment)
  }
  // A `%` left over (malformed, or decoded from `%25`) would stop a template from matching the
  // reading; readings are only compared, never forwarded, so it stands for any character.
  const normal = `/${segments.join('/')}`.replaceAll('%', '_')
  const lower = normal.toLowerCase()
  return lower === normal ? [normal] : [normal, lower]
}
