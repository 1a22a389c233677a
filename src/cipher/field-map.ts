/**
 * Which parts of a JSON message stay plain: an allow-list of path patterns compiled once into a
 * tree. Everything the list does not name is encrypted, so a field a protocol adds tomorrow is
 * encrypted by default. Patterns are dot-separated keys with `*` for any key or array index:
 * `model`, `messages.*.role`, `usage` (a whole subtree stays plain).
 */
import { ContinuumError } from '../errors'
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

/** Returns a copy of `message` with every non-plain value replaced by its ciphertext. */
export function encryptFields(
  tree: PlainFieldTree,
  message: unknown,
  context: CipherContext,
  sequence: number,
): unknown {
  return walkEncrypt(tree, message, '', context, sequence)
}

function walkEncrypt(
  tree: PlainFieldTree,
  value: unknown,
  path: string,
  context: CipherContext,
  sequence: number,
): unknown {
  if (tree.plain) return value
  if (!isContainer(value)) return path === '' ? value : encryptValue(context, sequence, path, value)
  if (Array.isArray(value)) {
    const copy = new Array<unknown>(value.length)
    for (let index = 0; index < value.length; index++) {
      const child = childTree(tree, String(index))
      const childPath = `${path}/${index}`
      copy[index] =
        child === undefined
          ? encryptValue(context, sequence, childPath, value[index])
          : walkEncrypt(child, value[index], childPath, context, sequence)
    }
    return copy
  }
  const copy: Record<string, unknown> = {}
  for (const key of Object.keys(value)) {
    const item = value[key]
    if (item === undefined) continue
    const child = childTree(tree, key)
    const childPath = `${path}/${escapePointer(key)}`
    copy[key] =
      child === undefined
        ? encryptValue(context, sequence, childPath, item)
        : walkEncrypt(child, item, childPath, context, sequence)
  }
  return copy
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
  return walkDecrypt(tree, message, '', context, sequence)
}

function openField(value: unknown, path: string, context: CipherContext, sequence: number): unknown {
  if (!isCiphertext(value)) {
    throw new ContinuumError('CONTINUUM_FIELD_NOT_ENCRYPTED', `Field ${path} must be encrypted`, {
      details: { path },
    })
  }
  return decryptValue(context, sequence, path, value)
}

function walkDecrypt(
  tree: PlainFieldTree,
  value: unknown,
  path: string,
  context: CipherContext,
  sequence: number,
): unknown {
  if (tree.plain) return value
  if (!isContainer(value)) return path === '' ? value : openField(value, path, context, sequence)
  if (Array.isArray(value)) {
    const copy = new Array<unknown>(value.length)
    for (let index = 0; index < value.length; index++) {
      const child = childTree(tree, String(index))
      const childPath = `${path}/${index}`
      copy[index] =
        child === undefined
          ? openField(value[index], childPath, context, sequence)
          : walkDecrypt(child, value[index], childPath, context, sequence)
    }
    return copy
  }
  const copy: Record<string, unknown> = {}
  for (const key of Object.keys(value)) {
    const child = childTree(tree, key)
    const childPath = `${path}/${escapePointer(key)}`
    copy[key] =
      child === undefined
        ? openField(value[key], childPath, context, sequence)
        : walkDecrypt(child, value[key], childPath, context, sequence)
  }
  return copy
}
