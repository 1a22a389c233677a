/**
 * Brands instead of `instanceof`: an object made by one copy of the package (the ESM build, say)
 * must be recognised by another (the CJS build, or a second install in node_modules), which
 * `instanceof` cannot do. A brand is a `Symbol.for` key, shared by every copy in the process.
 */

/** The registry key of a brand, e.g. `continuum-proxy.Keyring`. */
function brandKey(name: string): symbol {
  return Symbol.for(`continuum-proxy.${name}`)
}

/** Marks `target` (an instance, or a class prototype) as a `name`. */
export function brand(target: object, name: string): void {
  Object.defineProperty(target, brandKey(name), { value: true, enumerable: false })
}

/** Whether `value` carries the brand `name`. */
export function hasBrand(value: unknown, name: string): boolean {
  return (
    typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brandKey(name)] === true
  )
}
