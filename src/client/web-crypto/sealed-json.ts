/**
 * The canonical JSON (RFC 8785) of a message this client has just encrypted, which the request
 * seal covers and the wire carries: the same text as `canonicalJson(copy)`, written without
 * scanning the ciphertexts again. A ciphertext is most of a request's bytes, and it is the
 * client's own `cp2.<keyId>.<base64url>`, all ASCII with nothing to escape, so its JSON form is
 * itself in quotes; everything else (member names, plain values and subtrees) is written by
 * canonicalJson. The allow-list tells the leaves apart, exactly as the walk of fields.ts placed
 * them, so only a copy that walk made may be given here.
 */
import type { PlainFieldTree } from '../../cipher/field-map'
import { canonicalJson } from '../../internal/canonical-json'

function isContainer(value: unknown): value is Record<string, unknown> | unknown[] {
  return typeof value === 'object' && value !== null
}

/** `canonicalJson(copy)` for a copy that encryptFields made under `tree`. */
export function sealedCanonicalJson(tree: PlainFieldTree, copy: unknown): string {
  return tree.plain || !isContainer(copy) ? canonicalJson(copy) : container(tree, copy)
}

/** A container on the way to the leaves; the copy's containers are plain objects and arrays. */
function container(tree: PlainFieldTree, value: Record<string, unknown> | unknown[]): string {
  if (Array.isArray(value)) {
    const indexed = tree.children.size > 0
    let text = '['
    for (let index = 0; index < value.length; index++) {
      const child = (indexed ? tree.children.get(String(index)) : undefined) ?? tree.any
      text += `${index === 0 ? '' : ','}${member(child, value[index])}`
    }
    return `${text}]`
  }
  // Default sort compares UTF-16 code units, which is the order RFC 8785 prescribes.
  const keys = Object.keys(value).sort()
  let text = '{'
  let wrote = false
  for (const key of keys) {
    const item = value[key]
    if (item === undefined) continue
    text += `${wrote ? ',' : ''}${canonicalJson(key)}:${member(tree.children.get(key) ?? tree.any, item)}`
    wrote = true
  }
  return `${text}}`
}

function member(child: PlainFieldTree | undefined, item: unknown): string {
  if (child?.plain === true) return canonicalJson(item)
  if (child !== undefined && isContainer(item)) return container(child, item)
  // A leaf, which the walk replaced by a ciphertext of this client's: base64url, nothing to escape.
  return `"${item as string}"`
}
