/**
 * Canonical JSON (RFC 8785, JCS) of a parsed JSON value: object keys sorted by UTF-16 code units,
 * no whitespace, numbers and strings as ECMAScript serialises them. Seals are computed over this
 * form so they do not depend on how a framework or an intermediary re-serialised the body.
 */

/** Serialises a JSON value canonically. `undefined` members are dropped, as JSON.stringify does. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    return JSON.stringify(value) ?? 'null'
  }
  if (Array.isArray(value)) {
    let text = '['
    for (let index = 0; index < value.length; index++) {
      if (index > 0) text += ','
      const item = value[index]
      text += item === undefined ? 'null' : canonicalJson(item)
    }
    return `${text}]`
  }
  const record = value as Record<string, unknown>
  const keys = Object.keys(record).sort()
  let text = '{'
  let first = true
  for (const key of keys) {
    const item = record[key]
    if (item === undefined) continue
    if (!first) text += ','
    first = false
    text += `${JSON.stringify(key)}:${canonicalJson(item)}`
  }
  return `${text}}`
}
