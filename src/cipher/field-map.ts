/**
 * Which parts of a JSON message stay plain: an allow-list of path patterns compiled once into a
 * tree. Everything the list does not name is encrypted, so a field a protocol adds tomorrow is
 * encrypted by default. Patterns are dot-separated keys with `*` for any key or array index:
 * `model`, `messages.*.role`, `usage` (a whole subtree stays plain).
 */
import { ContinuumError } from '../errors'
import { canonicalJson, memberName, sortedKeys } from '../internal/canonical-json'
import { type CipherContext, decryptValue, encryptValue } from './field-cipher'
import { isCiphertext } from './format'

/** A compiled allow-list. */
export interface PlainFieldTree {
  /** The whole subtree stays plain. */
  readonly plain: boolean
  readonly children: ReadonlyMap<string, PlainFieldTree>
  readonly any: PlainFieldTree | undefined
}

interface MutableTree {
  plain: boolean
  children: Map<string, MutableTree>
  any: MutableTree | undefined
}

/** Compiles plain-field patterns; throws CONTINUUM_INVALID_OPTIONS on an empty segment. */
export function compilePlainFields(patterns: readonly string[]): PlainFieldTree {
  const root: MutableTree = { plain: false, children: new Map(), any: undefined }
  for (const pattern of patterns) {
    let node = root
    const segments = pattern.split('.')
    for (const segment of segments) {
      if (segment === '') {
        throw new ContinuumError(
          'CONTINUUM_INVALID_OPTIONS',
          `Plain field pattern "${pattern}" has an empty segment`,
        )
      }
      let next = segment === '*' ? node.any : node.children.get(segment)
      if (next === undefined) {
        next = { plain: false, children: new Map(), any: undefined }
        if (segment === '*') node.any = next
        else node.children.set(segment, next)
      }
      node = next
    }
    node.plain = true
  }
  return root
}

const escapePointer = (key: string): string =>
  key.includes('~') || key.includes('/') ? key.replaceAll('~', '~0').replaceAll('/', '~1') : key

function childTree(tree: PlainFieldTree, key: string): PlainFieldTree | undefined {
  return tree.children.get(key) ?? tree.any
}

function isContainer(value: unknown): value is Record<string, unknown> | unknown[] {
  return typeof value === 'object' && value !== null
}

/** What happens to a value off the allow-list: encrypted on the way out, decrypted on the way in. */
type SealedLeaf = (value: unknown, path: string) => unknown

/**
 * Copies a message, keeping plain subtrees and containers on the way to deeper plain patterns,
 * and passing every other value (with its JSON Pointer) to `leaf`. The root is never a leaf.
 * Recursion follows the allow-list only (a plain subtree or a leaf ends it), so its depth is
 * bounded by the longest pattern, whatever the depth of the message.
 */
function walk(tree: PlainFieldTree, value: unknown, path: string, leaf: SealedLeaf): unknown {
  if (tree.plain) return value
  if (!isContainer(value)) return path === '' ? value : leaf(value, path)
  if (Array.isArray(value)) {
    const copy = new Array<unknown>(value.length)
    for (let index = 0; index < value.length; index++) {
      const child = childTree(tree, String(index))
      const childPath = `${path}/${index}`
      copy[index] =
        child === undefined ? leaf(value[index], childPath) : walk(child, value[index], childPath, leaf)
    }
    return copy
  }
  const copy: Record<string, unknown> = {}
  for (const key of Object.keys(value)) {
    const item = value[key]
    if (item === undefined) continue
    const child = childTree(tree, key)
    const childPath = `${path}/${escapePointer(key)}`
    const result = child === undefined ? leaf(item, childPath) : walk(child, item, childPath, leaf)
    // `copy.__proto__ = x` would set the prototype (or do nothing) instead of keeping the member:
    // JSON members are data, so `__proto__` is defined as an own property like JSON.parse does.
    if (key === '__proto__') {
      Object.defineProperty(copy, key, {
        value: result,
        writable: true,
        enumerable: true,
        configurable: true,
      })
    } else {
      copy[key] = result
    }
  }
  return copy
}

/** Returns a copy of `message` with every non-plain value replaced by its ciphertext. */
export function encryptFields(
  tree: PlainFieldTree,
  message: unknown,
  context: CipherContext,
  sequence: number,
): unknown {
  return walk(tree, message, '', (value, path) => encryptValue(context, sequence, path, value))
}

/**
 * The canonical JSON of `encryptFields(tree, message, context, sequence)`, written in one pass:
 * no encrypted copy is built and walked again, and a ciphertext (base64url behind a key id of the
 * same alphabet, nothing to escape) goes in between quotes as it is, where the copy's writer ran
 * JSON.stringify over its every character. The text is the same: members in RFC 8785 order, an
 * undefined member left out, plain subtrees written by canonicalJson. A message that fails either
 * way (undefined in an array, a value or member name RFC 8785 cannot hold) is done again the
 * two-step way, so the error, and which field it names first, is the one it always was.
 */
export function encryptFieldsToCanonicalJson(
  tree: PlainFieldTree,
  message: unknown,
  context: CipherContext,
  sequence: number,
): string {
  try {
    return writeEncrypted(tree, message, '', context, sequence)
  } catch {
    return canonicalJson(encryptFields(tree, message, context, sequence))
  }
}

/** {@link walk} with {@link encryptValue} as its leaf, writing canonical text instead of a copy. */
function writeEncrypted(
  tree: PlainFieldTree,
  value: unknown,
  path: string,
  context: CipherContext,
  sequence: number,
): string {
  if (tree.plain) return canonicalJson(value)
  if (!isContainer(value)) {
    return path === '' ? canonicalJson(value) : `"${encryptValue(context, sequence, path, value)}"`
  }
  if (Array.isArray(value)) {
    let text = '['
    for (let index = 0; index < value.length; index++) {
      const item = value[index]
      if (item === undefined) throw new TypeError('undefined in an array')
      const child = childTree(tree, String(index))
      const childPath = `${path}/${index}`
      if (index > 0) text += ','
      text +=
        child === undefined
          ? `"${encryptValue(context, sequence, childPath, item)}"`
          : writeEncrypted(child, item, childPath, context, sequence)
    }
    return `${text}]`
  }
  const object = value as Record<string, unknown>
  let text = '{'
  let wrote = false
  for (const key of sortedKeys(object)) {
    const item = object[key]
    if (item === undefined) continue
    const name = memberName(key)
    const child = childTree(tree, key)
    const childPath = `${path}/${escapePointer(key)}`
    text += `${wrote ? ',' : ''}${name}:${
      child === undefined
        ? `"${encryptValue(context, sequence, childPath, item)}"`
        : writeEncrypted(child, item, childPath, context, sequence)
    }`
    wrote = true
  }
  return `${text}}`
}

/**
 * Returns a copy of `message` with every non-plain value decrypted. A non-plain position that
 * holds anything but a ciphertext raises CONTINUUM_FIELD_NOT_ENCRYPTED naming its path.
 */
export function decryptFields(
  tree: PlainFieldTree,
  message: unknown,
  context: CipherContext,
  sequence: number,
): unknown {
  return walk(tree, message, '', (value, path) => {
    if (!isCiphertext(value)) {
      throw new ContinuumError('CONTINUUM_FIELD_NOT_ENCRYPTED', `Field ${path} must be encrypted`, {
        details: { path },
      })
    }
    return decryptValue(context, sequence, path, value)
  })
}
