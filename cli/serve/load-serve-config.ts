/**
 * Reads `continuum.toml` (or `.json`): parses it, validates every section against the schema of
 * config-sections.ts (unknown keys are errors, so a typo never falls back to a default), checks
 * what a schema cannot (proxy or gateway mode), and resolves `env:` / `file:` secret references
 * with the router's resolver. Errors are CONTINUUM_CONFIG_INVALID naming the key, or
 * CONTINUUM_SECRET_UNRESOLVED naming the key and the reference; never a value, and for TOML
 * syntax errors only the position (the parser's message quotes the line, which may hold a key).
 */
import { readFile as readFileFromDisk } from 'node:fs/promises'
import { Ajv } from 'ajv'
import {
  configError,
  describeSchemaError,
  readConfigDocument,
  resolveSecret,
  type SecretSources,
} from '../../src/router/index'
import { CONFIG_SECTIONS } from './config-sections'
import type { Table } from './option-map'

/** Where the file and its secrets come from; injectable for tests. */
export interface ServeConfigSources {
  env: Readonly<Record<string, string | undefined>>
  readFile: (path: string) => Promise<string>
}

/** The default sources: the process environment and the disk. */
export const processSources: ServeConfigSources = {
  env: process.env,
  readFile: (path) => readFileFromDisk(path, 'utf8'),
}

const ajv = new Ajv({ allErrors: false, verbose: true, strict: true })
ajv.addKeyword({ keyword: 'expect', schemaType: 'string' })

const validate = ajv.compile({
  type: 'object',
  additionalProperties: false,
  expect: 'a table',
  properties: Object.fromEntries(
    CONFIG_SECTIONS.map((section) => [
      section.name,
      section.name === 'inference'
        ? { type: 'object', expect: 'a table (the router configuration)' }
        : {
            type: 'object',
            additionalProperties: false,
            expect: 'a table',
            properties: Object.fromEntries(
              Object.entries(section.fields).map(([key, field]) => [key, field.schema]),
            ),
          },
    ]),
  ),
})

/** The shortest `server.request_timeout_ms` a document allows: its header and JSON body timeouts. */
export function requestTimeoutFloor(document: Table): number {
  const server = document.server as Table | undefined
  const proxy = document.proxy as Table | undefined
  return Math.max(
    (server?.headers_timeout_ms as number | undefined) ?? 60_000,
    (proxy?.body_timeout_ms as number | undefined) ?? 60_000,
  )
}

/** Validates a parsed document; throws CONTINUUM_CONFIG_INVALID naming the first bad key. */
export function validateServeConfig(document: unknown): asserts document is Table {
  if (!validate(document)) {
    // With anyOf, ajv's first error is a branch's; prefer the error of the annotated schema.
    const errors = validate.errors ?? []
    const annotated = errors.find((error) => error.keyword === 'anyOf') ?? errors[0]!
    throw describeSchemaError(annotated, { unknownTopLevel: 'is not a known section' })
  }
  const config = document as Table
  if ((config.upstream === undefined) === (config.inference === undefined)) {
    throw configError(
      config.upstream === undefined ? 'upstream' : 'inference',
      config.upstream === undefined
        ? 'give [upstream] (proxy mode: one inference server) or [inference] (gateway mode: the router)'
        : 'give [upstream] or [inference], not both',
    )
  }
  const server = config.server as Table | undefined
  const requestTimeoutMs = server?.request_timeout_ms as number | undefined
  if (requestTimeoutMs !== undefined && requestTimeoutMs < requestTimeoutFloor(config)) {
    // node:http refuses a shorter one than headersTimeout; a body the proxy still waits for would
    // get the server's bare 408 instead of the proxy's.
    throw configError(
      'server.request_timeout_ms',
      `must be at least server.headers_timeout_ms and proxy.body_timeout_ms (${requestTimeoutFloor(config)})`,
    )
  }
  const upstream = config.upstream as Table | undefined
  if (upstream !== undefined && upstream.url === undefined && upstream.socket_path === undefined) {
    throw configError(
      'upstream.url',
      'is required (or upstream.socket_path), e.g. url = "http://127.0.0.1:8000"',
    )
  }
  if (config.gateway !== undefined && config.inference === undefined) {
    throw configError('gateway', 'applies to gateway mode only: add [inference], or remove [gateway]')
  }
  const store = config.store as Table | undefined
  if (store !== undefined && (store.url === undefined) === (store.cluster_nodes === undefined)) {
    throw configError('store.url', 'give url or cluster_nodes, one of them')
  }
  const keys = config.keys as Table | undefined
  if (keys?.schedule_file !== undefined) {
    for (const key of ['keys', 'agreement_keys', 'primary', 'primary_agreement']) {
      if (keys[key] !== undefined)
        throw configError(`keys.${key}`, 'comes from schedule_file: give one of them')
    }
  } else if (keys?.reload_interval_ms !== undefined) {
    throw configError('keys.reload_interval_ms', 'applies to schedule_file only')
  }
  const cache = config.cache as Table | undefined
  if (cache?.shared === true && config.store === undefined) {
    throw configError('cache.shared', 'needs a [store] section (the Redis the instances share)')
  }
  if (cache?.shared === true && cache.secret === undefined) {
    throw configError(
      'cache.secret',
      'is required with cache.shared: every instance must derive the same keys',
    )
  }
  const audit = config.audit as Table | undefined
  if (audit !== undefined) {
    for (const key of ['path', 'private_key'])
      if (audit[key] === undefined) throw configError(`audit.${key}`, 'is required')
  }
}

async function resolveStrings(value: unknown, key: string, sources: SecretSources): Promise<unknown> {
  if (typeof value === 'string') return resolveSecret(value, key, sources)
  if (Array.isArray(value))
    return Promise.all(value.map((item, index) => resolveStrings(item, `${key}[${index}]`, sources)))
  if (typeof value === 'object' && value !== null) {
    const entries = await Promise.all(
      Object.entries(value).map(async ([name, inner]) => [
        name,
        await resolveStrings(inner, `${key}.${name}`, sources),
      ]),
    )
    return Object.fromEntries(entries)
  }
  return value
}

/** Resolves the secret references of one section (the keys marked `secret`); the rest stays as it is. */
export async function resolveSection(
  document: Table,
  name: string,
  sources: ServeConfigSources,
): Promise<Table | undefined> {
  const table = document[name] as Table | undefined
  if (table === undefined) return undefined
  const section = CONFIG_SECTIONS.find((candidate) => candidate.name === name)!
  const resolved: Table = { ...table }
  for (const [key, field] of Object.entries(section.fields)) {
    if (field.secret === true && table[key] !== undefined)
      resolved[key] = await resolveStrings(table[key], `${name}.${key}`, sources)
  }
  return resolved
}

/** Reads, validates and resolves a configuration file. [inference] is resolved later, by loadRouterConfig. */
export async function loadServeConfig(
  path: string,
  sources: ServeConfigSources = processSources,
): Promise<Table> {
  const document = await readConfigDocument(path, sources.readFile)
  validateServeConfig(document)
  const resolved: Table = { ...document }
  for (const section of CONFIG_SECTIONS) {
    if (section.name !== 'inference' && document[section.name] !== undefined) {
      resolved[section.name] = await resolveSection(document, section.name, sources)
    }
  }
  return resolved
}
