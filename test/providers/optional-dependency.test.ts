/**
 * importOptionalDependency, the provider kit's loader for optional peers (Vertex AI's
 * google-auth-library, Bedrock's @smithy/* and @aws-crypto/*, node-seal for FHE): an absent
 * package becomes CONTINUUM_DEPENDENCY_MISSING naming what to install, while a broken install is
 * not disguised as a missing one. The built package without the peers is checked end to end by
 * test/smoke/missing-peers.mjs.
 */
import { ContinuumError } from 'continuum-proxy'
import { importOptionalDependency } from 'continuum-proxy/provider-kit'
import { describe, expect, it } from 'vitest'

async function failure(promise: Promise<unknown>): Promise<ContinuumError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  )
  expect(ContinuumError.isInstance(error)).toBe(true)
  return error as ContinuumError
}

describe('importOptionalDependency', () => {
  it('imports an installed package', async () => {
    const toml = await importOptionalDependency<typeof import('smol-toml')>('smol-toml', 'A test')
    expect(toml.parse('a = 1')).toEqual({ a: 1 })
  })

  it('names a package that is not installed, with the install command', async () => {
    const error = await failure(
      importOptionalDependency('@continuum-test/not-installed', 'The Acme provider'),
    )
    expect(error.code).toBe('CONTINUUM_DEPENDENCY_MISSING')
    expect(error.status).toBe(500)
    expect(error.isRetryable).toBe(false)
    expect(error.message).toBe(
      'The Acme provider needs the optional package @continuum-test/not-installed, which is not installed: ' +
        'run npm install @continuum-test/not-installed',
    )
    expect(error.toJSON().error).toMatchObject({ package: '@continuum-test/not-installed' })
  })

  it('names the package, not the subpath, when a subpath is imported', async () => {
    const error = await failure(importOptionalDependency('not-installed-continuum-test/sub/path', 'FHE'))
    expect(error.message).toContain('npm install not-installed-continuum-test')
    expect(error.toJSON().error).toMatchObject({ package: 'not-installed-continuum-test' })
  })

  it.each([
    ['ESM', 'ERR_MODULE_NOT_FOUND', "Cannot find package 'google-auth-library' imported from /app/dist/x.js"],
    [
      'CommonJS',
      'MODULE_NOT_FOUND',
      "Cannot find module 'google-auth-library'\nRequire stack:\n- /app/x.cjs",
    ],
  ])('recognises the %s loader saying the package is absent', async (_label, code, message) => {
    const importer = () => Promise.reject(Object.assign(new Error(message), { code }))
    const error = await failure(importOptionalDependency('google-auth-library', 'Vertex AI', importer))
    expect(error.code).toBe('CONTINUUM_DEPENDENCY_MISSING')
  })

  it('rethrows a missing dependency of the package itself as it is', async () => {
    const broken = Object.assign(
      new Error("Cannot find package 'gaxios' imported from /app/google-auth-library"),
      {
        code: 'ERR_MODULE_NOT_FOUND',
      },
    )
    const caught = await importOptionalDependency('google-auth-library', 'Vertex AI', () =>
      Promise.reject(broken),
    ).catch((error: unknown) => error)
    expect(caught).toBe(broken)
  })

  it('rethrows a package that fails while loading', async () => {
    const broken = new SyntaxError('Unexpected token')
    const caught = await importOptionalDependency('node-seal', 'FHE', () => Promise.reject(broken)).catch(
      (error: unknown) => error,
    )
    expect(caught).toBe(broken)
  })
})
