/**
 * The Python client encrypts by the allow-lists in its data files, not by the adapters: these
 * tests fail when a committed file differs from what the adapters and the error table say now
 * (regenerate with `npx tsx scripts/export-allow-lists.ts`), and check that the files say
 * something, so an empty export cannot pass.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { errorCodesData, PYTHON_DATA_FILES, renderJson, routesData } from './python-client-data'

const root = new URL('../../', import.meta.url)
const committed = (path: string): string => readFileSync(new URL(path, root), 'utf8')

describe('the Python client data files', () => {
  it('hold the allow-lists of the adapters as they are now', () => {
    expect(committed(PYTHON_DATA_FILES.routes)).toBe(renderJson(routesData()))
  })

  it('hold the error code table as it is now', () => {
    expect(committed(PYTHON_DATA_FILES.errorCodes)).toBe(renderJson(errorCodesData()))
  })

  it('name every encrypted route with its allow-lists and stream framing', () => {
    const data = JSON.parse(committed(PYTHON_DATA_FILES.routes)) as {
      adapters: {
        name: string
        routes: { path: string; encrypted: boolean; stream?: { framing: string } }[]
      }[]
    }
    const names = data.adapters.map((adapter) => adapter.name)
    expect(names).toEqual(['openai', 'anthropic', 'triton', 'tgi', 'ollama'])
    const routes = data.adapters.flatMap((adapter) => adapter.routes)
    expect(routes.find((route) => route.path === '/v1/chat/completions')).toMatchObject({
      encrypted: true,
      stream: { framing: 'sse' },
    })
    expect(routes.find((route) => route.path === '/api/chat')?.stream?.framing).toBe('ndjson')
  })
})
