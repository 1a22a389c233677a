/** Regenerates docs/errors.md from the code table: `npx tsx scripts/errors-doc.ts`. */
import { writeFileSync } from 'node:fs'
import { renderErrorsDoc } from '../test/support/errors-doc'

writeFileSync(new URL('../docs/errors.md', import.meta.url), renderErrorsDoc())
