/**
 * Request headers that carry credentials. Options that name a header whose value becomes an
 * identity (the audit stage's `identityHeader`, the gateway's `callerIdHeader` and
 * `classificationHeader`) refuse these, so a bearer token or an API key is never written into an
 * audit record, a router request's metadata or what a classifier and a custom provider are handed.
 */
export const CREDENTIAL_HEADERS: ReadonlySet<string> = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'x-api-key',
  'api-key',
  'x-goog-api-key',
])
