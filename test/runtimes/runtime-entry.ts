/**
 * What Deno and Bun run (test/runtimes/deno-bun.test.ts): the browser test page's calls
 * (test/browser/page-entry.ts, the official `openai` SDK over `createEncryptedFetch`), bundled
 * for the browser as an application would bundle them, and driven from the command line instead
 * of a page. The plan, a JSON array of steps, arrives on standard input; each outcome is printed
 * as one JSON line. The `vectors` step runs the shared protocol vectors on both of the client's
 * backends: WebCrypto, and the one the runtime's client picks by itself.
 */
import { defaultBackend, webCryptoBackend } from '../../src/client/web-crypto/index'
import { type CallInput, pageApi } from '../browser/page-entry'
import { checkSharedVectors } from '../browser/vector-check'
import { standardInput } from './standard-input'

/** One step of a plan: a chat or stream call, or the shared vectors (the file's JSON text). */
export type PlanStep = { method: 'chat' | 'stream'; input: CallInput } | { method: 'vectors'; input: string }

/** What the `vectors` step prints. */
export interface VectorsOutcome {
  /** The backend the client picks in this runtime. */
  picked: string
  reports: { backend: string; checks: number; failures: string[] }[]
}

async function vectors(text: string): Promise<VectorsOutcome> {
  const picked = defaultBackend()
  const backends = picked === webCryptoBackend ? [webCryptoBackend] : [webCryptoBackend, picked]
  const reports = []
  // Parsed once per backend: a run may not share objects with the next.
  for (const backend of backends) reports.push(await checkSharedVectors(JSON.parse(text), backend))
  return { picked: picked.name, reports }
}

const plan = JSON.parse(await standardInput()) as PlanStep[]
for (const step of plan) {
  const outcome =
    step.method === 'vectors' ? await vectors(step.input) : await pageApi[step.method](step.input)
  console.log(JSON.stringify(outcome))
}
