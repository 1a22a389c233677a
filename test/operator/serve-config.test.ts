/**
 * The configuration of `continuum-proxy serve` (issue 13, item 3), in-process: the committed
 * reference is the one the schema generates; every option of every options type has a place (the
 * maps are typed over `keyof`, checked here at the type level too) and every key of the file
 * sets some option or a setting of the server; each key reaches its option; and bad files fail
 * with the key named and no value echoed.
 */
import { readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ContinuumError } from 'continuum-proxy'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../../cli/run-cli'
import { renderProxyConfigDoc } from '../../cli/serve/config-doc'
import { CONFIG_SECTIONS } from '../../cli/serve/config-sections'
import { loadServeConfig, type ServeConfigSources } from '../../cli/serve/load-serve-config'
import { buildOptions, type OptionMap, type OptionSource } from '../../cli/serve/option-map'
import { OPTION_MAPS, SERVER_KEYS } from '../../cli/serve/option-sources'

const root = new URL('../..', import.meta.url).pathname

/** Sources over an in-memory file set and environment. */
function memory(files: Record<string, string>, env: Record<string, string> = {}): ServeConfigSources {
  return {
    env,
    readFile: async (path) => {
      const text = files[path]
      if (text === undefined) throw Object.assign(new Error('absent'), { code: 'ENOENT' })
      return text
    },
  }
}

async function refusal(toml: string, env: Record<string, string> = {}): Promise<ContinuumError> {
  try {
    await loadServeConfig('/etc/continuum.toml', memory({ '/etc/continuum.toml': toml }, env))
  } catch (error) {
    expect(ContinuumError.isInstance(error)).toBe(true)
    return error as ContinuumError
  }
  throw new Error('expected the configuration to be refused')
}

function keysOf(source: OptionSource): readonly string[] {
  if ('key' in source) return [source.key]
  if ('keys' in source) return source.keys
  return []
}

describe('the configuration reference', () => {
  it('is the committed docs/proxy-configuration.md (regenerate: npx tsx scripts/proxy-config-doc.ts)', () => {
    expect(readFileSync(join(root, 'docs/proxy-configuration.md'), 'utf8')).toBe(renderProxyConfigDoc())
  })

  it('gives every option of every options type a place, and every key of the file a use', () => {
    const fileKeys = CONFIG_SECTIONS.flatMap((section) =>
      Object.keys(section.fields).map((key) => `${section.name}.${key}`),
    )
    const used = new Set<string>(SERVER_KEYS)
    for (const { type, map } of OPTION_MAPS) {
      for (const [name, entry] of Object.entries(map) as [string, { from: OptionSource }][]) {
        for (const key of keysOf(entry.from)) {
          expect(fileKeys, `${type}.${name} reads ${key}`).toContain(key)
          used.add(key)
        }
        if ('code' in entry.from)
          expect(entry.from.code.length, `${type}.${name} says why`).toBeGreaterThan(3)
      }
    }
    expect(fileKeys.filter((key) => !used.has(key))).toEqual([])
  })

  it('is exhaustive by construction: a map missing an option does not compile', () => {
    interface TwoOptions {
      first?: number
      second?: string
    }
    // @ts-expect-error `second` has no place
    const incomplete: OptionMap<TwoOptions, undefined> = { first: { from: { key: 'proxy.first' } } }
    expect(Object.keys(incomplete)).toEqual(['first'])
  })

  it('carries each key of the file to its option', () => {
    for (const { type, map } of OPTION_MAPS) {
      for (const [name, entry] of Object.entries(map) as [
        string,
        { from: OptionSource; value?: unknown },
      ][]) {
        if (!('key' in entry.from) || entry.value !== undefined) continue
        const [section, key] = entry.from.key.split('.') as [string, string]
        const sentinel = { sentinel: `${type}.${name}` }
        const built = buildOptions(
          map as OptionMap<Record<string, unknown>, never>,
          { [section]: { [key]: sentinel } },
          {} as never,
        )
        expect(built[name], `${entry.from.key} → ${type}.${name}`).toBe(sentinel)
      }
    }
  })
})

describe('a configuration file that is wrong', () => {
  it.each<[string, string, RegExp]>([
    [
      'a typo in a key',
      '[upstream]\nurl = "http://127.0.0.1:8000"\n[proxy]\nbody_limt = 10',
      /^proxy\.body_limt: is not a known key$/,
    ],
    [
      'a value of the wrong type',
      '[upstream]\nurl = "http://127.0.0.1:8000"\n[proxy]\nbody_limit = "10MB"',
      /^proxy\.body_limit: must be a positive integer$/,
    ],
    [
      'an unknown section',
      '[upstream]\nurl = "http://127.0.0.1:8000"\n[scaner]\naction = "block"',
      /^scaner: is not a known section$/,
    ],
    [
      'an unknown protocol',
      '[upstream]\nurl = "http://x:1"\n[proxy]\nadapters = ["openai", "grpc"]',
      /^proxy\.adapters\[1\]: must be one of openai/,
    ],
    ['neither mode', '[proxy]\nbody_limit = 10', /^upstream: give \[upstream\] .* or \[inference\]/],
    [
      'both modes',
      '[upstream]\nurl = "http://x:1"\n[inference.providers.a]\ntype = "vllm"',
      /^inference: give \[upstream\] or \[inference\], not both$/,
    ],
    [
      'gateway settings without a router',
      '[upstream]\nurl = "http://x:1"\n[gateway]\ncaller_id = "a"',
      /^gateway: applies to gateway mode only/,
    ],
    [
      'a path that is not one',
      '[upstream]\nurl = "http://x:1"\n[telemetry]\nmetrics_path = "metrics"',
      /^telemetry\.metrics_path: must be a path starting with "\/", or false$/,
    ],
    [
      'a bad listen address',
      '[server]\nlisten = "8080"\n[upstream]\nurl = "http://x:1"',
      /^server\.listen: must be host:port/,
    ],
    [
      'a shared cache without a store',
      '[upstream]\nurl = "http://x:1"\n[cache]\nshared = true\nsecret = "env:S"',
      /^cache\.shared: needs a \[store\] section/,
    ],
    [
      'an audit log without its key',
      '[upstream]\nurl = "http://x:1"\n[audit]\npath = "/var/log/a.jsonl"',
      /^audit\.private_key: is required$/,
    ],
  ])('%s', async (_name, toml, message) => {
    const error = await refusal(toml)
    expect(error.code).toBe('CONTINUUM_CONFIG_INVALID')
    expect(error.message).toMatch(message)
  })

  it('names an unresolved secret by key and reference, never a value', async () => {
    const error = await refusal(
      '[upstream]\nurl = "http://x:1"\n[keys]\nkeys = [{ id = "k1", key = "env:CONTINUUM_KEY" }]',
    )
    expect(error.code).toBe('CONTINUUM_SECRET_UNRESOLVED')
    expect(error.message).toBe('keys.keys[0].key: secret reference env:CONTINUUM_KEY is not set')
  })

  it('reports a TOML syntax error by position only (the line may hold a key)', async () => {
    const error = await refusal('[keys]\nkeys = [{ id = "k1", key = "c2VjcmV0LWtleS1tYXRlcmlhbA }]')
    expect(error.message).toMatch(/is not valid TOML \(line \d+, column \d+\)/)
    expect(error.message).not.toContain('c2VjcmV0')
  })

  it('names an unreadable file and the reason, as loadRouterConfig does', async () => {
    const error = await loadServeConfig('/etc/absent.toml', memory({})).catch((caught: unknown) => caught)
    expect(ContinuumError.isInstance(error) && error.code).toBe('CONTINUUM_CONFIG_INVALID')
    expect((error as ContinuumError).message).toBe(
      '/etc/absent.toml: the configuration file could not be read (ENOENT)',
    )
  })

  it('calls an unknown top-level table a section and an unknown key a key', async () => {
    expect((await refusal('[upstream]\nurl = "http://x:1"\n[upstreem]\nurl = 1')).message).toBe(
      'upstreem: is not a known section',
    )
    expect((await refusal('[upstream]\nurl = "http://x:1"\nulr = 1')).message).toBe(
      'upstream.ulr: is not a known key',
    )
  })

  it('resolves env: and file: references of secret keys only', async () => {
    const sources = memory(
      {
        '/etc/continuum.toml':
          '[upstream]\nurl = "http://x:1"\nheaders = { authorization = "env:BEARER" }\n[keys]\nkeys = [{ id = "k1", key = "file:/run/k1" }]\n[gateway]\n',
        '/run/k1': 'a2V5\n',
      },
      { BEARER: 'Bearer abc' },
    )
    await expect(loadServeConfig('/etc/continuum.toml', sources)).rejects.toThrow(/gateway mode only/)
    const document = await loadServeConfig(
      '/etc/continuum.toml',
      memory(
        {
          '/etc/continuum.toml':
            '[upstream]\nurl = "http://x:1"\nheaders = { authorization = "env:BEARER" }\n[keys]\nkeys = [{ id = "k1", key = "file:/run/k1" }]\n[proxy]\npass_through = ["/env:x"]\n',
          '/run/k1': 'a2V5\n',
        },
        { BEARER: 'Bearer abc' },
      ),
    )
    expect(document.upstream).toMatchObject({ headers: { authorization: 'Bearer abc' } })
    expect(document.keys).toMatchObject({ keys: [{ id: 'k1', key: 'a2V5' }] })
    expect(document.proxy).toMatchObject({ pass_through: ['/env:x'] })
  })
})

describe('serve --check', () => {
  let folder: string
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'continuum-serve-check-'))
  })
  afterAll(async () => {
    await rm(folder, { recursive: true, force: true })
  })

  async function check(toml: string): Promise<{ code: number; out: string; err: string }> {
    const path = join(folder, `c-${Math.random().toString(36).slice(2)}.toml`)
    await writeFile(path, toml)
    const out: string[] = []
    const err: string[] = []
    const code = await runCli(['serve', '--config', path, '--check'], {
      stdout: (text) => out.push(text),
      stderr: (text) => err.push(text),
    })
    return { code, out: out.join('\n'), err: err.join('\n') }
  }

  it('builds the pipeline and reports the mode', async () => {
    const result = await check(
      '[upstream]\nurl = "http://127.0.0.1:9"\n[proxy]\nadapters = ["openai", "tgi"]\n[scanner]\n[cache]\n',
    )
    expect(result.code).toBe(0)
    expect(result.err).toBe('configuration OK: proxy mode, openai, tgi')
    expect(JSON.parse(result.out.split('\n')[0]!)).toMatchObject({
      msg: 'continuum-proxy ready',
      stages: 'scanner,cache',
    })
  })

  it('refuses the vLLM client base URL with the option and the fix', async () => {
    const result = await check('[upstream]\nurl = "http://127.0.0.1:8000/v1"\n')
    expect(result.code).toBe(2)
    expect(result.err).toContain('CONTINUUM_INVALID_OPTIONS')
    expect(result.err).toContain("give the server's base URL without it, 'http://127.0.0.1:8000'")
  })
})
