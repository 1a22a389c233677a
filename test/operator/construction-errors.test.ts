/**
 * Clear failures at construction (issue 13, item 2): every missing or malformed option is
 * CONTINUUM_INVALID_OPTIONS naming the option and what to do, never a raw TypeError or a 404 at
 * request time. The usual mistakes: a key variable that is not set (`process.env.X!` reads as
 * undefined), a key of the wrong length, keys given as a bare list, an agreement key that is not
 * one, the vLLM client base URL (`…/v1`) as the upstream, options of earlier releases, typos, and
 * an unknown protocol name. No message repeats key material. On a Node older than 22.12 the
 * package stops at import with CONTINUUM_UNSUPPORTED_RUNTIME.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join } from 'node:path'
import { runInNewContext } from 'node:vm'
import { ContinuumError, Keyring } from 'continuum-proxy'
import { createEncryptedFetch } from 'continuum-proxy/client'
import { continuum } from 'continuum-proxy/express'
import { continuum as koaContinuum } from 'continuum-proxy/koa'
import { describe, expect, it } from 'vitest'

const root = new URL('../..', import.meta.url).pathname
const UPSTREAM = 'http://127.0.0.1:8000'

/** The error a construction throws, asserted to be ours and coded. */
function failure(build: () => unknown): ContinuumError {
  try {
    build()
  } catch (error) {
    expect(ContinuumError.isInstance(error)).toBe(true)
    return error as ContinuumError
  }
  throw new Error('expected the construction to fail')
}

describe('the middleware refuses bad options at construction, naming the option and the fix', () => {
  it.each<[string, () => unknown, RegExp[]]>([
    [
      'an unset key variable',
      () =>
        continuum({
          upstream: UPSTREAM,
          keys: { keys: [{ id: 'k2026', key: process.env.CONTINUUM_UNSET_KEY! }] },
        }),
      [/keys\[0\]\.key \(id "k2026"\) is not set/, /environment variable/, /keygen field/],
    ],
    [
      'an unset key id variable',
      () =>
        continuum({
          upstream: UPSTREAM,
          keys: { keys: [{ id: process.env.CONTINUUM_UNSET_ID!, key: randomBytes(32) }] },
        }),
      [/keys\[0\]\.id is not set/],
    ],
    [
      'a key of 31 bytes',
      () =>
        continuum({
          upstream: UPSTREAM,
          keys: { keys: [{ id: 'k2026', key: randomBytes(31).toString('base64url') }] },
        }),
      [/keys\[0\]\.key \(id "k2026"\) must be 32 bytes/, /keygen field/],
    ],
    [
      'keys as a bare list',
      () => continuum({ upstream: UPSTREAM, keys: [{ id: 'k2026', key: randomBytes(32) }] as never }),
      [/wrap it as keys: \{ keys: \[\.\.\.\] \}/],
    ],
    [
      'one key where the list belongs',
      () => continuum({ upstream: UPSTREAM, keys: { id: 'k2026', key: randomBytes(32) } as never }),
      [/keys: \{ keys: \[\{ id, key \}\] \}/],
    ],
    [
      'an empty keyring',
      () => continuum({ upstream: UPSTREAM, keys: {} }),
      [/give at least one key/, /keygen field/, /keygen agreement/],
    ],
    [
      'an unset agreement key',
      () =>
        continuum({
          upstream: UPSTREAM,
          keys: { agreementKeys: [{ id: 'a1', privateKey: process.env.CONTINUUM_UNSET_PEM! }] },
        }),
      [/agreementKeys\[0\]\.privateKey \(id "a1"\) is not set/, /keygen agreement/],
    ],
    [
      'an agreement key that is not X25519',
      () =>
        continuum({ upstream: UPSTREAM, keys: { agreementKeys: [{ id: 'a1', privateKey: 'not a key' }] } }),
      [/agreementKeys\[0\]\.privateKey \(id "a1"\) is not an X25519 private key/, /PEM/],
    ],
    [
      'the vLLM client base URL as the upstream',
      () => continuum({ upstream: 'http://127.0.0.1:8000/v1' }),
      [/ends in the version segment \/v1/, /\/v1\/v1\//, /'http:\/\/127\.0\.0\.1:8000'/],
    ],
    [
      'a version segment in upstream.url',
      () => continuum({ upstream: { url: 'http://gpu.internal/llm/v2/' } }),
      [/upstream\.url ends in the version segment \/v2/, /'http:\/\/gpu\.internal\/llm'/],
    ],
    ['no upstream', () => continuum({}), [/upstream is required/, /http:\/\/127\.0\.0\.1:8000/]],
    ['an unset upstream variable', () => continuum({ upstream: '' }), [/upstream is empty/]],
    [
      'credentials in the upstream URL',
      () => continuum({ upstream: 'http://user:pw@127.0.0.1:8000' }),
      [/upstream\.headers/],
    ],
    ['a query in the upstream URL', () => continuum({ upstream: 'http://127.0.0.1:8000?x=1' }), [/query/]],
    [
      'an upstream header from an unset variable',
      () => continuum({ upstream: { url: UPSTREAM, headers: { authorization: undefined as never } } }),
      [/upstream\.headers\["authorization"\]/],
    ],
    [
      'the retired scanner option',
      () => continuum({ upstream: UPSTREAM, scanner: {} } as never),
      [/scanner option was replaced/, /new ScannerStage/],
    ],
    [
      'the retired telemetry option',
      () => koaContinuum({ upstream: UPSTREAM, telemetry: true } as never),
      [/new Telemetry\(\)/],
    ],
    [
      'a typo',
      () => continuum({ upstream: UPSTREAM, bodylimit: 10 } as never),
      [/bodylimit is not an option/],
    ],
    [
      'an unknown protocol name',
      () => continuum({ upstream: UPSTREAM, adapters: ['openai', 'grpc' as never] }),
      [/"grpc" is not a built-in protocol/, /tgi/],
    ],
    [
      "encryption 'required' without keys",
      () => continuum({ upstream: UPSTREAM, encryption: 'required' }),
      [/needs keys/, /keygen field/],
    ],
    [
      'a logger without methods',
      () => continuum({ upstream: UPSTREAM, logger: {} as never }),
      [/logger needs debug, info, warn and error/],
    ],
  ])('%s', (_name, build, patterns) => {
    const error = failure(build)
    expect(error.code).toBe('CONTINUUM_INVALID_OPTIONS')
    for (const pattern of patterns) expect(error.message).toMatch(pattern)
  })

  it('never repeats key material in a message', () => {
    const key = randomBytes(31)
    for (const encoded of [key.toString('base64url'), key.toString('hex')]) {
      const error = failure(() => new Keyring({ keys: [{ id: 'k1', key: encoded }] }))
      expect(error.message).not.toContain(encoded)
      expect(error.message).not.toContain(encoded.slice(0, 12))
    }
  })
})

describe('the client refuses bad options at construction', () => {
  it.each<[string, () => unknown, RegExp[]]>([
    [
      'an unset key variable',
      () => createEncryptedFetch({ keyId: 'k2026', key: process.env.CONTINUUM_UNSET_KEY! }),
      [/key is not set/, /keyId "k2026"/],
    ],
    [
      'an unset key id variable',
      () => createEncryptedFetch({ keyId: process.env.CONTINUUM_UNSET_ID!, key: randomBytes(32) }),
      [/keyId is not set/],
    ],
    [
      'no key at all',
      () => createEncryptedFetch({}),
      [/give a key/, /agreement: \{ fingerprint \}/, /continuum-proxy fingerprint/],
    ],
    [
      'a key of 16 bytes',
      () => createEncryptedFetch({ keyId: 'k1', key: randomBytes(16) }),
      [/must be 32 bytes/, /keygen field/],
    ],
    [
      'a fingerprint that is not one',
      () => createEncryptedFetch({ agreement: { fingerprint: 'abc' } }),
      [/sha256:/],
    ],
  ])('%s', (_name, build, patterns) => {
    const error = failure(build)
    expect(error.code).toBe('CONTINUUM_INVALID_OPTIONS')
    for (const pattern of patterns) expect(error.message).toMatch(pattern)
  })
})

const CHECK = readFileSync(join(root, 'src/internal/supported-node.cjs'), 'utf8')

/** Runs the version check as if on Node `version`; resolves the error it throws, if any. */
function checkAs(version: string): unknown {
  try {
    runInNewContext(CHECK, { process: { versions: { node: version } }, module: {}, exports: {} })
    return undefined
  } catch (error) {
    return error
  }
}

/** A `node` on PATH older than 22, other than the one running the tests (the machines ship Node 20). */
function oldNode(): string | undefined {
  for (const folder of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(folder, 'node')
    if (folder === '' || dirname(process.execPath) === folder) continue
    try {
      const version = execFileSync(candidate, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim()
      if (Number(version.split('.')[0]) < 22) return candidate
    } catch {}
  }
  return undefined
}

describe('the Node version check at import', () => {
  it.each(['20.20.2', '18.19.0', '22.11.0'])(
    'stops Node %s with CONTINUUM_UNSUPPORTED_RUNTIME and what to do',
    (version) => {
      const error = checkAs(version)
      expect(ContinuumError.isInstance(error)).toBe(true)
      expect(error).toMatchObject({ code: 'CONTINUUM_UNSUPPORTED_RUNTIME', details: { node: version } })
      expect((error as Error).message).toContain(`needs Node.js >= 22.12; this is Node.js ${version}`)
      expect((error as Error).message).toContain('ensure-node.sh')
    },
  )

  it.each(['22.12.0', '22.20.5', '24.1.0'])('lets Node %s through', (version) => {
    expect(checkAs(version)).toBeUndefined()
  })

  const old = oldNode()
  it.skipIf(old === undefined)('stops a real old Node importing the middleware, before undici fails', () => {
    const probe = join(tmpdir(), `continuum-old-node-${process.pid}.mts`)
    writeFileSync(probe, `import ${JSON.stringify(join(root, 'middleware/express.ts'))}\n`)
    const run = spawnSync(old!, [join(root, 'node_modules/tsx/dist/cli.mjs'), probe], {
      cwd: root,
      encoding: 'utf8',
    })
    expect(run.status).not.toBe(0)
    expect(run.stderr).toContain('CONTINUUM_UNSUPPORTED_RUNTIME')
    expect(run.stderr).toContain('needs Node.js >= 22.12')
    expect(run.stderr).not.toContain("reading 'bind'")
  })
})
