/**
 * AWS Signature Version 4 for Bedrock calls, with smithy's SignatureV4 and a pure-JS SHA-256, so
 * no AWS SDK client is needed. Both are optional peer dependencies, imported on the first
 * signature; without them that call throws CONTINUUM_DEPENDENCY_MISSING naming the package. The
 * request is signed exactly as it will be sent: the already percent-encoded path (model ids
 * contain `:` and ARNs contain `/`), the host with its port, and the final body bytes. Credentials are static keys or a function that returns fresh ones (for
 * rotating STS credentials); they are read per call and never logged.
 */
import type { SignatureV4 } from '@smithy/signature-v4'
import { type Clock, ContinuumError } from '../../../src/index'
import { importOptionalDependency } from '../../../src/provider-kit/index'

let signingLibraries:
  | Promise<[typeof import('@smithy/signature-v4'), typeof import('@aws-crypto/sha256-js')]>
  | undefined

function loadSigningLibraries(): NonNullable<typeof signingLibraries> {
  signingLibraries ??= Promise.all([
    importOptionalDependency<typeof import('@smithy/signature-v4')>(
      '@smithy/signature-v4',
      'The Bedrock provider',
    ),
    importOptionalDependency<typeof import('@aws-crypto/sha256-js')>(
      '@aws-crypto/sha256-js',
      'The Bedrock provider',
    ),
  ])
  // A failed import is not cached: the next call tries again and reports the same missing package.
  signingLibraries.catch(() => {
    signingLibraries = undefined
  })
  return signingLibraries
}

/** AWS credentials. */
export interface AwsCredentials {
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string
}

/** Static credentials, or a function returning current ones (e.g. from STS or an instance role). */
export type AwsCredentialsSource = AwsCredentials | (() => Promise<AwsCredentials>)

/** Signs requests for one service and region. */
export class BedrockSigner {
  readonly #createSigner: () => Promise<SignatureV4>
  #signer: Promise<SignatureV4> | undefined
  readonly #clock: Clock

  constructor(region: string, credentials: AwsCredentialsSource, clock: Clock, providerId: string) {
    this.#clock = clock
    const credentialProvider =
      typeof credentials === 'function'
        ? async (): Promise<AwsCredentials> => {
            let resolved: AwsCredentials
            try {
              resolved = await credentials()
            } catch (error) {
              throw new ContinuumError(
                'CONTINUUM_PROVIDER_AUTH_FAILED',
                `Provider ${providerId} could not obtain AWS credentials`,
                {
                  cause: error,
                  details: { provider: providerId },
                },
              )
            }
            if (typeof resolved?.accessKeyId !== 'string' || typeof resolved?.secretAccessKey !== 'string') {
              throw new ContinuumError(
                'CONTINUUM_PROVIDER_AUTH_FAILED',
                `Provider ${providerId} got malformed AWS credentials`,
                {
                  details: { provider: providerId },
                },
              )
            }
            return resolved
          }
        : credentials
    this.#createSigner = async () => {
      const [{ SignatureV4 }, { Sha256 }] = await loadSigningLibraries()
      return new SignatureV4({ service: 'bedrock', region, credentials: credentialProvider, sha256: Sha256 })
    }
  }

  /** smithy's signer, built on the first signature (which imports the signing packages). */
  #signerOnce(): Promise<SignatureV4> {
    if (this.#signer === undefined) {
      const signer = this.#createSigner()
      this.#signer = signer
      signer.catch(() => {
        if (this.#signer === signer) this.#signer = undefined
      })
    }
    return this.#signer
  }

  /** The headers to send (the given ones plus host, x-amz-date, x-amz-content-sha256, authorization...). */
  async sign(
    method: 'GET' | 'POST',
    url: URL,
    headers: Record<string, string>,
    body: string | undefined,
  ): Promise<Record<string, string>> {
    const query: Record<string, string> = {}
    for (const [name, value] of url.searchParams) query[name] = value
    const signer = await this.#signerOnce()
    const signed = await signer.sign(
      {
        method,
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port === '' ? {} : { port: Number(url.port) }),
        path: url.pathname,
        query,
        headers: { ...headers, host: url.host },
        ...(body === undefined ? {} : { body }),
      },
      { signingDate: new Date(this.#clock.now()) },
    )
    return signed.headers as Record<string, string>
  }
}
