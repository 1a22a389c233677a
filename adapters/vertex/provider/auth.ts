/**
 * OAuth access tokens for Vertex AI calls: a fixed token, a caller's token function, or Google's
 * Application Default Credentials through google-auth-library, an optional peer dependency. The
 * library is imported and its GoogleAuth constructed only when the first call needs a token, so
 * constructing a provider (or testing one with a supplied token) never loads it or touches the
 * metadata server or network; without the library that first call throws
 * CONTINUUM_DEPENDENCY_MISSING. Token values never reach errors or logs.
 */
import type { GoogleAuthOptions } from 'google-auth-library'
import { ContinuumError } from '../../../src/index'
import { importOptionalDependency } from '../../../src/provider-kit/index'

/** A fixed access token or a function returning a current one. */
export type VertexAccessToken = string | (() => Promise<string>)

/** The scope Vertex AI requires. */
export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform'

/** Returns a function that yields a bearer token for each call. */
export function createTokenSource(
  providerId: string,
  accessToken: VertexAccessToken | undefined,
  googleAuthOptions: GoogleAuthOptions | undefined,
): () => Promise<string> {
  if (typeof accessToken === 'string') return async () => accessToken
  let fetchToken: () => Promise<string | null | undefined>
  if (typeof accessToken === 'function') {
    fetchToken = accessToken
  } else {
    let client: Promise<{ getAccessToken(): Promise<string | null | undefined> }> | undefined
    fetchToken = async () => {
      client ??= importOptionalDependency<typeof import('google-auth-library')>(
        'google-auth-library',
        `The Vertex AI provider ${providerId} (Application Default Credentials, no accessToken given)`,
      ).then(({ GoogleAuth }) => new GoogleAuth({ ...googleAuthOptions, scopes: [CLOUD_PLATFORM_SCOPE] }))
      return (await client).getAccessToken()
    }
  }
  return async () => {
    let token: string | null | undefined
    try {
      token = await fetchToken()
    } catch (error) {
      // A missing google-auth-library is an installation problem, not a credentials one.
      if (ContinuumError.isInstance(error) && error.code === 'CONTINUUM_DEPENDENCY_MISSING') throw error
      throw new ContinuumError(
        'CONTINUUM_PROVIDER_AUTH_FAILED',
        `Provider ${providerId} could not obtain a Google access token`,
        {
          cause: error,
          details: { provider: providerId },
        },
      )
    }
    if (typeof token !== 'string' || token === '') {
      throw new ContinuumError(
        'CONTINUUM_PROVIDER_AUTH_FAILED',
        `Provider ${providerId} got an empty Google access token`,
        {
          details: { provider: providerId },
        },
      )
    }
    return token
  }
}
