/**
 * Regenerates the Python client's data files from the TypeScript adapters and error table:
 * `npx tsx scripts/export-allow-lists.ts` (test/interop/python-client-data.test.ts fails when they
 * are out of date).
 */
import { writeFileSync } from 'node:fs'
import { errorCodesData, PYTHON_DATA_FILES, renderJson, routesData } from '../test/interop/python-client-data'

const root = new URL('../', import.meta.url)
writeFileSync(new URL(PYTHON_DATA_FILES.routes, root), renderJson(routesData()))
writeFileSync(new URL(PYTHON_DATA_FILES.errorCodes, root), renderJson(errorCodesData()))
