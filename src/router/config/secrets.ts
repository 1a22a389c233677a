/**
 * Secret references in configuration: `env:NAME` reads an environment variable, `file:/path`
 * reads a file (trailing newline dropped, as secret files written by `echo` or mounted by
 * Kubernetes usually end in one). Resolution happens once at load; errors name the config key and
 * the reference, never a value.
 */
import { ContinuumError } from '../../errors'

/** Where secrets come from; injectable for tests. */
export interface SecretSources {
  env: Readonly<Record<string, string | undefined>>
  readFile: (path: string) => Promise<string>
}

const REFERENCE = /^(env|file):(.+)$/s

/** Whether a config string is a secret reference. */
export function isSecretReference(value: string): boolean {
  return REFERENCE.test(value)
}

/** Resolves a reference, or returns a plain value unchanged. `key` is the dotted config path, for errors. */
export async function resolveSecret(value: string, key: string, sources: SecretSources): Promise<string> {
  const match = REFERENCE.exec(value)
  if (match === null) return value
  const [, scheme, target] = match as unknown as [string, 'env' | 'file', string]
  const unresolved = (why: string): ContinuumError =>
    new ContinuumError('CONTINUUM_SECRET_UNRESOLVED', `${key}: secret reference ${scheme}:${target} ${why}`, {
      details: { key, reference: `${scheme}:${target}` },
    })
  if (scheme === 'env') {
    const resolved = sources.env[target]
    if (resolved === undefined || resolved === '') throw unresolved('is not set')
    return resolved
  }
  let content: string
  try {
    content = await sources.readFile(target)
  } catch {
    throw unresolved('could not be read')
  }
  const trimmed = content.replace(/\r?\n$/, '')
  if (trimmed === '') throw unresolved('is empty')
  return trimmed
}
