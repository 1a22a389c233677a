/**
 * The Python client's client-side cost (clients/python/bench/client_cost.py), run from
 * `npm run bench` so its table sits with the others. It runs under Debian's python3 with
 * python3-httpx and python3-cryptography (clients/python/python.sh picks the interpreter).
 */
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export default async function pythonClientBench(): Promise<void> {
  const root = fileURLToPath(new URL('..', import.meta.url))
  const run = spawnSync('sh', ['clients/python/python.sh', 'clients/python/bench/client_cost.py'], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  if (run.status !== 0) throw new Error(`the Python client benchmark failed (exit ${run.status})`)
  process.stdout.write(run.stdout)
}
