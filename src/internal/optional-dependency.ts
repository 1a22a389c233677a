/**
 * Optional peer dependencies, imported when a feature first needs them: google-auth-library for
 * Vertex AI's default credentials, @smithy/* and @aws-crypto/* for Bedrock's signing and event
 * streams, node-seal for FHE. A missing package becomes CONTINUUM_DEPENDENCY_MISSING naming what
 * to install; any other failure (a broken install, a missing dependency of the package itself)
 * is rethrown as it is, so it is not mistaken for an absent peer.
 */
import { ContinuumError } from '../errors'
import { importModule } from './import-module.mjs'

/** The package name of a specifier: `@smithy/util-utf8` of itself, `node-seal` of `node-seal/throws`. */
export function packageNameOf(specifier: string): string {
  const parts = specifier.split('/')
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!
}

/** Whether `error` says that `name` itself could not be found (ESM, CommonJS and Vite wordings). */
export function isPackageNotFound(error: unknown, name: string): boolean {
  if (typeof error !== 'object' || error === null) return false
  const { code, message } = error as { code?: unknown; message?: unknown }
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return false
  if (typeof message !== 'string') return false
  return message.includes(`'${name}'`) || message.includes(`"${name}"`) || message.includes(`'${name}/`)
}

/**
 * Imports an optional peer dependency, or throws CONTINUUM_DEPENDENCY_MISSING naming the package.
 * `neededBy` says which feature needs it, e.g. `'The Bedrock provider'`. Callers cache the promise.
 *
 * @example
 * const { GoogleAuth } = await importOptionalDependency<typeof import('google-auth-library')>(
 *   'google-auth-library', 'The Vertex AI provider')
 */
export async function importOptionalDependency<T>(
  specifier: string,
  neededBy: string,
  importer: (specifier: string) => Promise<unknown> = importModule,
): Promise<T> {
  const name = packageNameOf(specifier)
  try {
    return (await importer(specifier)) as T
  } catch (error) {
    if (!isPackageNotFound(error, name)) throw error
    throw new ContinuumError(
      'CONTINUUM_DEPENDENCY_MISSING',
      `${neededBy} needs the optional package ${name}, which is not installed: run npm install ${name}`,
      { cause: error, details: { package: name } },
    )
  }
}
