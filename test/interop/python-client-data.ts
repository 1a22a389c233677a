/**
 * The data the Python client (clients/python) reads instead of the TypeScript adapters: every
 * built-in route with its plain-field allow-lists and stream framing, and the table of error
 * codes. `npx tsx scripts/export-allow-lists.ts` writes both files; a test fails when a committed
 * file differs from what the adapters say today, so the two clients cannot encrypt differently.
 */
import { builtinAdapters } from '../../adapters/index'
import { ERROR_CODES } from '../../src/errors/codes'

/** Where the generated files live, relative to the repository root. */
export const PYTHON_DATA_FILES = {
  routes: 'clients/python/src/continuum_client/routes.json',
  errorCodes: 'clients/python/src/continuum_client/error_codes.json',
} as const

function definedOnly(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined))
}

/** The routes of the built-in adapters as JSON data (functions such as `isFinal` are server-side only). */
export function routesData(): Record<string, unknown> {
  return {
    generatedBy: 'scripts/export-allow-lists.ts from adapters/*/proxy/adapter.ts; do not edit',
    format: 'cp2',
    adapters: builtinAdapters().map((adapter) => ({
      name: adapter.name,
      credentialHeaders: [...adapter.credentialHeaders],
      varyHeaders: [...adapter.varyHeaders],
      routes: adapter.routes.map((route) =>
        definedOnly({
          name: route.name,
          method: route.method,
          path: route.path,
          header: route.header,
          encrypted: route.encrypted,
          requestPlain: route.requestPlain === undefined ? undefined : [...route.requestPlain],
          responsePlain: route.responsePlain === undefined ? undefined : [...route.responsePlain],
          stream:
            route.stream === undefined
              ? undefined
              : definedOnly({
                  framing: route.stream.framing,
                  plain: [...route.stream.plain],
                  terminal: route.stream.terminal,
                }),
        }),
      ),
    })),
  }
}

/** Every stable error code with its status, type and whether a retry can help. */
export function errorCodesData(): Record<string, unknown> {
  return {
    generatedBy: 'scripts/export-allow-lists.ts from src/errors/codes.ts; do not edit',
    codes: Object.fromEntries(
      Object.entries(ERROR_CODES).map(([code, info]) => [
        code,
        { status: info.status, type: info.type, retryable: info.retryable },
      ]),
    ),
  }
}

/** The text of a generated file: two-space JSON and a final newline. */
export function renderJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`
}
