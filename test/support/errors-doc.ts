/** Renders docs/errors.md from ERROR_CODES and ERROR_DESCRIPTIONS, so the docs test can compare the file with the table. */
import { ERROR_CODES, ERROR_DESCRIPTIONS, type ErrorCode } from 'continuum-proxy'

export function renderErrorsDoc(): string {
  const rows = Object.entries(ERROR_CODES).map(
    ([code, info]) =>
      `| \`${code}\` | ${info.status} | ${info.type} | ${info.retryable ? 'yes' : 'no'} | ${ERROR_DESCRIPTIONS[code as ErrorCode]} |`,
  )
  return [
    '# Error codes',
    '',
    'Every error the library raises on purpose is a `ContinuumError` with one of these stable codes.',
    'Servers answer with the status shown and a JSON body `{"error":{"code","message","type"}}`',
    '(an SSE `error` event on streams), marked `x-continuum-encrypted: 0` and `cache-control: no-store`;',
    "behind the router gateway, Anthropic-format clients get it in Anthropic's shape,",
    '`{"type":"error","error":{"type","message","code"}}` ([gateway.md](gateway.md#errors)).',
    'Messages never contain request content or key material.',
    'Codes are never reused.',
    '',
    'This file is generated from `src/errors/codes.ts` (`ERROR_CODES`) and `src/errors/code-descriptions.ts`',
    '(`ERROR_DESCRIPTIONS`, both exported from `continuum-proxy`) by `npx tsx scripts/errors-doc.ts`;',
    '`test/errors.test.ts` fails when the two disagree.',
    '',
    '| code | status | type | retryable | when |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n')
}
