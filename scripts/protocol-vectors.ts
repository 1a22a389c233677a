/**
 * Regenerates the shared protocol vector file both clients check,
 * `npx tsx scripts/protocol-vectors.ts` (test/protocol.test.ts fails when it is out of date).
 */
import { writeFileSync } from 'node:fs'
import { computeSharedVectors, SHARED_VECTORS_FILE } from '../test/support/shared-vectors'

writeFileSync(
  new URL(`../${SHARED_VECTORS_FILE}`, import.meta.url),
  `${JSON.stringify(await computeSharedVectors(), null, 2)}\n`,
)
