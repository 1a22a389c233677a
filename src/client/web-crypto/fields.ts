/**
 * The allow-list walk of src/cipher/field-map.ts for a cipher that may answer later: a copy of
 * the message in which every value off the allow-list is replaced by what `leaf` gives. A leaf
 * answered at once (node:crypto) is written at once, and a message whose leaves all were is
 * returned as it is, without a promise; the leaves WebCrypto promises run concurrently (it
 * answers each operation on another thread), all started before the first is awaited, and the
 * copy is complete only when all of them are. A failing leaf fails the whole message, the first
 * failure in message order winning.
 */
import type { PlainFieldTree } from '../../cipher/field-map'
import { ContinuumError } from '../../errors'
import type { MaybePromise } from './backend'
import { type ClientCipherContext, decryptValueNow, encryptValueNow, isPending } from './field-cipher'

type Leaf = (value: unknown, path: string) => MaybePromise<unknown>

const escapePointer = (key: string): string =>
  key.includes('~') || key.includes('/') ? key.replaceAll('~', '~0').replaceAll('/', '~1') : key

function isContainer(value: unknown): value is Record<string, unknown> | unknown[] {
  return typeof value === 'object' && value !== null
}

/**
 * Copies `value`, writing each leaf's answer into the copy, or queueing a job that will. Recursion
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
  if (Array.isArray(value)) {
    const copy = new Array<unknown>(value.length)
    const indexed = tree.children.size > 0
    for (let index = 0; index < value.length; index++) {
      const child = (indexed ? tree.children.get(String(index)) : undefined) ?? tree.any
      member(
        copy as unknown as Record<string, unknown>,
        String(index),
        value[index],
        child,
        `${path}/${index}`,
        leaf,
        jobs,
      )
    }
    return copy
  }
  const copy: Record<string, unknown> = {}
  for (const key of Object.keys(value)) {
    const item = (value as Record<string, unknown>)[key]
    if (item === undefined) continue
    // An own data property, `__proto__` included, as JSON.parse defines members.
    if (key === '__proto__')
      Object.defineProperty(copy, key, {
        value: undefined,
        writable: true,
        enumerable: true,
        configurable: true,
      })
    member(copy, key, item, tree.children.get(key) ?? tree.any, `${path}/${escapePointer(key)}`, leaf, jobs)
  }
  return copy
}

/** Writes one member of a copy: walked further, answered by its leaf at once, or queued. */
function member(
  copy: Record<string, unknown>,
  key: string,
  item: unknown,
  child: PlainFieldTree | undefined,
  path: string,
  leaf: Leaf,
  jobs: Promise<void>[],
): void {
  if (child !== undefined && (child.plain || isContainer(item))) {
    copy[key] = walk(child, item, path, leaf, jobs)
    return
  }
  let result: MaybePromise<unknown>
  try {
    result = leaf(item, path)
  } catch (error) {
    // With nothing pending the failure is the first; else it waits its turn in message order.
    if (jobs.length === 0) throw error
    result = Promise.reject(error)
  }
  if (!isPending(result)) {
    copy[key] = result
    return
  }
  // A placeholder now keeps the members in message order.
  copy[key] = undefined
  jobs.push(
    result.then((answer) => {
      copy[key] = answer
    }),
  )
}

function mapLeaves(tree: PlainFieldTree, message: unknown, leaf: Leaf): MaybePromise<unknown> {
  const jobs: Promise<void>[] = []
  const copy = walk(tree, message, '', leaf, jobs)
  if (jobs.length === 0) return copy
  if (jobs.length === 1) return jobs[0]!.then(() => copy)
  // allSettled, then the first failure in message order: no rejection is left unobserved.
  return Promise.allSettled(jobs).then((results) => {
    const failed = results.find((result) => result.status === 'rejected')
    if (failed !== undefined) throw failed.reason
    return copy
  })
}

/** {@link encryptFields}, immediate on a synchronous backend; throws rather than rejects there. */
export function encryptFieldsNow(
  tree: PlainFieldTree,
  message: unknown,
  context: ClientCipherContext,
  sequence: number,
): MaybePromise<unknown> {
  return mapLeaves(tree, message, (value, path) => encryptValueNow(context, sequence, path, value))
}

/** {@link decryptFields}, immediate on a synchronous backend; throws rather than rejects there. */
export function decryptFieldsNow(
  tree: PlainFieldTree,
  message: unknown,
  context: ClientCipherContext,
  sequence: number,
): MaybePromise<unknown> {
  return mapLeaves(tree, message, (value, path) => {
    if (typeof value !== 'string' || !value.startsWith('cp2.')) {
      throw new ContinuumError('CONTINUUM_FIELD_NOT_ENCRYPTED', `Field ${path} must be encrypted`, {
        details: { path },
      })
    }
    return decryptValueNow(context, sequence, path, value)
  })
}

/** A copy of `message` with every value off the allow-list encrypted. */
export async function encryptFields(
  tree: PlainFieldTree,
  message: unknown,
  context: ClientCipherContext,
  sequence: number,
): Promise<unknown> {
  return encryptFieldsNow(tree, message, context, sequence)
}

/** A copy of `message` with every value off the allow-list decrypted; a plain value there is CONTINUUM_FIELD_NOT_ENCRYPTED. */
export async function decryptFields(
  tree: PlainFieldTree,
  message: unknown,
  context: ClientCipherContext,
  sequence: number,
): Promise<unknown> {
  return decryptFieldsNow(tree, message, context, sequence)
}
