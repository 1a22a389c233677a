/**
 * Encrypted similarity search: the client encrypts a query embedding, the server scores it against
 * a stored collection without seeing it, and the client decrypts the top matches.
 * Run: `npx tsx examples/fhe-similarity.ts`
 */
import { FheKeyManager, FheService } from 'continuum-proxy/fhe'

const dimension = 64
const embed = (seed: number) =>
  Array.from({ length: dimension }, (_, index) => Math.sin(seed * 12.9898 + index * 78.233))

// Server side: a collection of stored embeddings, normalised so dot products are cosines.
const service = new FheService({ parameters: 'ckks-4096', workers: 1 })
const documents = Array.from({ length: 200 }, (_, index) => embed(index))
const collection = await service.registerCollection('documents', documents, { normalize: true })

// Client side: keys stay here; only evaluation keys (rotation steps the server asks for) go up.
const client = await FheKeyManager.generate({ parameters: 'ckks-4096' })
await service.uploadEvaluationKeys(client.evaluationKeys({ galoisSteps: collection.galoisSteps }))
const query = embed(42).map((value) => value + 0.05)
const norm = Math.hypot(...query)
const ciphertext = client.encryptQueries(collection.layouts.single, [query.map((value) => value / norm)])

// The server computes on ciphertext only.
const { results, layout } = await service.similarity({
  keyId: client.keyId,
  collection: 'documents',
  query: ciphertext,
})

const [scores] = client.decryptScores(layout, results)
const top = [...scores!.entries()].sort((left, right) => right[1] - left[1]).slice(0, 3)
console.log(
  'top matches (document, cosine):',
  top.map(([index, score]) => [index, Number(score.toFixed(4))]),
)
await service.close()
client.dispose()
