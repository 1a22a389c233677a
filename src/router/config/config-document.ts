/**
 * Reading a configuration document (TOML, or JSON by its `.json` extension) and wording its
 * schema errors, shared by `loadRouterConfig` and the `serve` command's `continuum.toml`, so both
 * say the same things the same way. Errors are CONTINUUM_CONFIG_INVALID naming the key and never
 * a value: for TOML syntax errors only the position, because the parser's message quotes the
 * offending line, which may hold a secret.
 */
import type { ErrorObject } from 'ajv'
import { parse as parseToml } from 'smol-toml'
import { ContinuumError } from '../../errors'

/** CONTINUUM_CONFIG_INVALID for `key` (`section.key`, `key[0]`): `${key}: ${why}`. */
export function configError(key: string, why: string, cause?: unknown): ContinuumError {
  return new ContinuumError('CONTINUUM_CONFIG_INVALID', `${key}: ${why}`, {
    details: { key },
    ...(cause === undefined ? {} : { cause }),
  })
}

/**
 * Reads and parses the document at `source` with `readFile`; throws CONTINUUM_CONFIG_INVALID
 * naming the file when it cannot be read (with the system's error code) or parsed.
 */
export async function readConfigDocument(
  source: string,
  readFile: (path: string) => Promise<string>,
): Promise<unknown> {
  let text: string
  try {
    text = await readFile(source)
  } catch (cause) {
    const code = (cause as { code?: unknown } | undefined)?.code
    const why = typeof code === 'string' ? ` (${code})` : ''
    throw configError(source, `the configuration file could not be read${why}`, cause)
  }
  if (source.endsWith('.json')) {
    try {
      return JSON.parse(text)
    } catch {
      throw configError(source, 'is not valid JSON')
    }
  }
  try {
    return parseToml(text)
  } catch (cause) {
    const position = cause as { line?: number; column?: number }
    throw configError(
      source,
      `is not valid TOML (line ${position.line ?? '?'}, column ${position.column ?? '?'})`,
    )
  }
}

/** How {@link describeSchemaError} words what the schema alone does not say. */
export interface SchemaErrorWording {
  /**
   * What an unknown key at the top level is called.
   * @default 'is not a known key'
   */
  unknownTopLevel?: string
  /**
   * What a key name refused by `propertyNames` or `pattern` is told, e.g. which characters names use.
   * @default ajv's own message
   */
  badName?: string
}

/**
 * Turns ajv's error into `dotted.key: must be ...` (array indexes as `key[0]`, as a TOML author
 * writes them), preferring the `expect` annotation of the failing schema over ajv's wording.
 */
export function describeSchemaError(error: ErrorObject, wording: SchemaErrorWording = {}): ContinuumError {
  const segments = error.instancePath
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
  const join = (parts: readonly string[]): string => parts.join('.').replace(/\.(\d+)(?=\.|$)/g, '[$1]')
  if (error.keyword === 'additionalProperties') {
    const key = join([...segments, String(error.params.additionalProperty)])
    const unknown =
      segments.length === 0 && wording.unknownTopLevel !== undefined
        ? wording.unknownTopLevel
        : 'is not a known key'
    return configError(key, unknown)
  }
  if (error.keyword === 'required') {
    return configError(join([...segments, String(error.params.missingProperty)]), 'is required')
  }
  if (wording.badName !== undefined && (error.keyword === 'propertyNames' || error.keyword === 'pattern')) {
    const name = error.params.propertyName ?? segments.at(-1)
    return configError(join([...segments, name]), wording.badName)
  }
  // anyOf reports its branches first; the annotated schema is the parent.
  const expect = (error.parentSchema as { expect?: string } | undefined)?.expect
  return configError(
    join(segments) || '(root)',
    expect === undefined ? String(error.message) : `must be ${expect}`,
  )
}
