/**
 * The allow-list walk of src/cipher/field-map.ts for an asynchronous cipher: a copy of the
 * message in which every value off the allow-list is replaced by what `leaf` resolves to. The
 * leaves of one message run concurrently (WebCrypto answers each operation on another thread),
 * and the copy is complete only when all of them are; a failing leaf fails the whole message.
 */
import type { PlainFieldTree } from '../../cipher/field-map'
import { ContinuumError } from '../../errors'
import { type ClientCipherContext, decryptValue, encryptValue } from './field-cipher'

type Leaf = (value: unknown, path: string) => Promise<unknown>

const escapePointer = (key: string): string =>
  key.includes('~') || key.includes('/') ? key.replaceAll('~', '~0').replaceAll('/', '~1') : key

function isContainer(value: unknown): value is Record<string, unknown> | unknown[] {
  return typeof value === 'object' && value !== null
}

/**
 * Copies `value`, queueing one job per leaf that writes its result into the copy. Recursion
 * follows the allow-list only, so its depth is bounded by the longest pattern.
 */
function walk(
  tree: PlainFieldTree,
  value: unknown,
  path: string,
  leaf: Leaf,
  jobs: Promise<void>[],
): unknown {
  if (tree.plain) return value
  if (!isContainer(value)) {
    if (path === '') return value
    throw new TypeError('unreachable: a leaf is queued by its container')
  }
  const copy: Record<string, unknown> | unknown[] = Array.isArray(value)
    ? new Array<unknown>(value.length)
    : {}
  const keys = Array.isArray(value) ? value.map((_, index) => String(index)) : Object.keys(value)
  for (const key of keys) {
    const item = (value as Record<string, unknown>)[key]
    if (item === undefined && !Array.isArray(value)) continue
    const child = tree.children.get(key) ?? tree.any
    const childPath = `${path}/${Array.isArray(value) ? key : escapePointer(key)}`
    // An own data property, `__proto__` included, as JSON.parse defines members.
    Object.defineProperty(copy, key, {
      value: undefined,
      writable: true,
      enumerable: true,
      configurable: true,
    })
    if (child !== undefined && (child.plain || isContainer(item))) {
      ;(copy as Record<string, unknown>)[key] = walk(child, item, childPath, leaf, jobs)
    } else {
      jobs.push(
        leaf(item, childPath).then((result) => {
          ;(copy as Record<string, unknown>)[key] = result
        }),
      )
    }
  }
  return copy
}

async function mapLeaves(tree: PlainFieldTree, message: unknown, leaf: Leaf): Promise<unknown> {
  const jobs: Promise<void>[] = []
  const copy = walk(tree, message, '', leaf, jobs)
  if (jobs.length === 1) await jobs[0]
  else if (jobs.length > 1) {
    // allSettled, then the first failure in message order: no rejection is left unobserved.
    const results = await Promise.allSettled(jobs)
    const failed = results.find((result) => result.status === 'rejected')
    if (failed !== undefined) throw failed.reason
  }
  return copy
}

/** A copy of `message` with every value off the allow-list encrypted. */
export function encryptFields(
  tree: PlainFieldTree,
  message: unknown,
  context: ClientCipherContext,
  sequence: number,
): Promise<unknown> {
  return mapLeaves(tree, message, (value, path) => encryptValue(context, sequence, path, value))
}

/** A copy of `message` with every value off the allow-list decrypted; a plain value there is CONTINUUM_FIELD_NOT_ENCRYPTED. */
export function decryptFields(
  tree: PlainFieldTree,
  message: unknown,
  context: ClientCipherContext,
  sequence: number,
): Promise<unknown> {
  return mapLeaves(tree, message, async (value, path) => {
    if (typeof value !== 'string' || !value.startsWith('cp2.')) {
      throw new ContinuumError('CONTINUUM_FIELD_NOT_ENCRYPTED', `Field ${path} must be encrypted`, {
        details: { path },
      })
    }
    return decryptValue(context, sequence, path, value)
  })
}
