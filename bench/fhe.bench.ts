/**
 * CKKS benchmark at the target sizes: key generation, encrypt/decrypt, and an encrypted 768-dim
 * query scored against 4,096 stored embeddings on a two-worker pool (ckks-8192). Also checks the
 * scores against plaintext and reports the evaluation-key upload size.
 */
import { FheKeyManager, FheService } from 'continuum-proxy/fhe'
import { fixed, median } from './stats'

const DIMENSION = 768
const ROWS = 4096
const RUNS = 5

const random = (() => {
  let state = 12345
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648
    return state / 2147483648 - 0.5
  }
})()
const unit = (values: number[]) => {
  const norm = Math.hypot(...values)
  return values.map((value) => value / norm)
}

async function time(runs: number, action: () => unknown | Promise<unknown>): Promise<number[]> {
  const samples: number[] = []
  for (let run = 0; run < runs; run++) {
    const started = performance.now()
    await action()
    samples.push(performance.now() - started)
  }
  return samples
}

export default async function (): Promise<void> {
  const rows: [string, string][] = []
  const progress = (step: string) => process.stderr.write(`fhe bench: ${step}\n`)
  const keyGeneration = await time(3, async () =>
    (await FheKeyManager.generate({ parameters: 'ckks-8192' })).dispose(),
  )
  rows.push(['key pair generation (ckks-8192)', `${fixed(median(keyGeneration), 1)} ms`])

  progress('keys generated')
  const client = await FheKeyManager.generate({ parameters: 'ckks-8192' })
  const service = new FheService({ parameters: 'ckks-8192', workers: 2 })
  try {
    const collection = Array.from({ length: ROWS }, () => unit(Array.from({ length: DIMENSION }, random)))
    progress('registering the collection')
    const registerStarted = performance.now()
    const description = await service.registerCollection('bench', collection)
    rows.push([
      `register ${ROWS} × ${DIMENSION} collection (encode diagonals, 2 workers)`,
      `${fixed(performance.now() - registerStarted, 0)} ms`,
    ])

    let keys: Uint8Array = new Uint8Array()
    const evaluationKeys = await time(3, () => {
      keys = client.evaluationKeys({ galoisSteps: description.galoisSteps })
    })
    rows.push([
      'evaluation keys (public + relin + Galois 1, 32; seeded, zstd)',
      `${fixed(median(evaluationKeys), 1)} ms`,
    ])
    rows.push(['evaluation key upload size', `${fixed(keys.byteLength / 1e6, 2)} MB`])
    const galoisOnly = client.evaluationKeys({
      galoisSteps: description.galoisSteps,
      publicKey: false,
      relinKeys: false,
    })
    rows.push(['evaluation key upload size, Galois keys only', `${fixed(galoisOnly.byteLength / 1e6, 2)} MB`])
    await service.uploadEvaluationKeys(keys)
    progress('keys uploaded')

    const query = unit(Array.from({ length: DIMENSION }, random))
    const layout = description.layouts.single
    let ciphertext: Uint8Array = new Uint8Array()
    const encrypt = await time(RUNS, () => {
      ciphertext = client.encryptQueries(layout, [query])
    })
    rows.push(['encrypt query (pack + encode + encrypt, seeded)', `${fixed(median(encrypt), 2)} ms`])
    rows.push(['query ciphertext size', `${fixed(ciphertext.byteLength / 1e3, 0)} kB`])

    await service.similarity({ keyId: client.keyId, collection: 'bench', query: ciphertext })
    let results: Uint8Array[] = []
    const similarity = await time(RUNS, async () => {
      results = (await service.similarity({ keyId: client.keyId, collection: 'bench', query: ciphertext }))
        .results
    })
    rows.push([
      `similarity ${DIMENSION}-dim query × ${ROWS} embeddings (2 workers)`,
      `${fixed(median(similarity), 0)} ms`,
    ])

    let scores: Float64Array = new Float64Array()
    const decrypt = await time(RUNS, () => {
      scores = client.decryptScores(layout, results)[0]!
    })
    rows.push(['decrypt scores', `${fixed(median(decrypt), 2)} ms`])
    let maxError = 0
    collection.forEach((row, index) => {
      const expected = row.reduce((sum, value, column) => sum + value * query[column]!, 0)
      maxError = Math.max(maxError, Math.abs(expected - scores[index]!))
    })
    rows.push(['max |encrypted − plaintext| score error', maxError.toExponential(2)])
  } finally {
    await service.close()
    client.dispose()
  }
  console.log('| operation | median |\n| --- | --- |')
  for (const [name, value] of rows) console.log(`| ${name} | ${value} |`)
}
