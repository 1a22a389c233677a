/**
 * Credential and header checks of the OpenAI-family and Anthropic clients, on top of the common
 * option checks in src/router/provider-http/provider-options.ts. A credential must be one line
 * without surrounding spaces so it can never split or forge a header; messages never echo it.
 */
import { invalidOption } from '../../../src/provider-kit/index'

/** Validates an API key; `required` makes an absent key an error. */
export function resolveApiKey(factory: string, value: unknown, required: true): string
export function resolveApiKey(factory: string, value: unknown, required: boolean): string | undefined
export function resolveApiKey(factory: string, value: unknown, required: boolean): string | undefined {
  if (value === undefined || value === null || value === '') {
    if (required) invalidOption(factory, 'apiKey is required')
    return undefined
  }
  if (typeof value !== 'string' || /[\r\n\0]/.test(value) || value.trim() !== value) {
    invalidOption(factory, 'apiKey must be a single-line string without surrounding spaces')
  }
  return value
}

/** Validates an optional single-line header value such as an organization id or API version. */
export function resolveHeaderValue(factory: string, option: string, value: unknown): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value === '' || /[\r\n\0]/.test(value)) {
    invalidOption(factory, `${option} must be a non-empty single-line string`)
  }
  return value
}
