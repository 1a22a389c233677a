// Smoke test of the optional peers on the built package (run after `npm run build`): the package
// is laid out in a temporary node_modules beside every installed dependency except the optional
// peers (google-auth-library, @smithy/*, @aws-crypto/*, node-seal, redis, @noble/post-quantum,
// prom-client), as `npm install` leaves it when they are not installed. Every entry still loads,
// with require() and import(); Vertex AI without an access token, Bedrock, FHE and Telemetry (its
// Prometheus metrics) fail on first use with CONTINUUM_DEPENDENCY_MISSING naming the package to
// install, and a plain Express setup does not need any of them.
import { execFileSync } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../..', import.meta.url))
const OPTIONAL_PEERS = [
  /^google-auth-library$/,
  /^@smithy\//,
  /^@aws-crypto\//,
  /^@aws-sdk\//,
  /^node-seal$/,
  /^redis$/,
  /^@redis\//,
  /^@noble\/post-quantum$/,
  /^prom-client$/,
]

const workspace = mkdtempSync(join(tmpdir(), 'continuum-missing-peers-'))
const modules = join(workspace, 'node_modules')
const installed = join(modules, 'continuum-proxy')
mkdirSync(installed, { recursive: true })
cpSync(join(root, 'package.json'), join(installed, 'package.json'))
cpSync(join(root, 'dist'), join(installed, 'dist'), {
  recursive: true,
  filter: (source) => !source.endsWith('.map') && !/\.d\.c?ts$/.test(source),
})
const rootModules = join(root, 'node_modules')
for (const name of readdirSync(rootModules)) {
  if (name.startsWith('.') || name === 'continuum-proxy') continue
  const names = name.startsWith('@')
    ? readdirSync(join(rootModules, name)).map((scoped) => `${name}/${scoped}`)
    : [name]
  for (const full of names) {
    if (OPTIONAL_PEERS.some((pattern) => pattern.test(full))) continue
    mkdirSync(join(modules, full, '..'), { recursive: true })
    symlinkSync(join(rootModules, full), join(modules, full), 'dir')
  }
}

const request = `{ model: 'm', messages: [{ role: 'user', content: 'hi' }], maxTokens: 8 }`
const body = (load) => `
const results = []
async function expectMissing(label, action, packageName) {
  try {
    await action()
    results.push(label + ': did not fail')
  } catch (error) {
    const ok = error?.code === 'CONTINUUM_DEPENDENCY_MISSING' && error.status === 500 &&
      error.isRetryable === false && error.message.includes('npm install ' + packageName) &&
      error.details?.package === packageName
    if (!ok) results.push(label + ': ' + (error?.code ?? '') + ' ' + error?.message)
  }
}
const { vertex, bedrock } = ${load('continuum-proxy/providers')}
const { FheKeyManager } = ${load('continuum-proxy/fhe')}
const { continuum } = ${load('continuum-proxy/express')}
const { Telemetry } = ${load('continuum-proxy/telemetry')}
for (const entry of ['continuum-proxy', 'continuum-proxy/router', 'continuum-proxy/provider-kit', 'continuum-proxy/client', 'continuum-proxy/redis']) {
  ${load('entry')}
}
const adc = vertex({ project: 'p', location: 'us-central1', baseURL: 'http://127.0.0.1:9' })
await expectMissing('vertex without accessToken', () => adc.complete(${request}), 'google-auth-library')
const signed = bedrock({ region: 'us-east-1', credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret' }, baseURL: 'http://127.0.0.1:9', controlPlaneURL: 'http://127.0.0.1:9' })
await expectMissing('bedrock complete', () => signed.complete(${request}), '@smithy/signature-v4')
await expectMissing('bedrock stream', async () => { for await (const _ of signed.stream(${request})) {} }, '@smithy/signature-v4')
await expectMissing('telemetry without prom-client', () => new Telemetry(), 'prom-client')
await expectMissing('fhe key generation', () => FheKeyManager.generate({ parameters: 'ckks-4096' }), 'node-seal')
const middleware = continuum({ upstream: 'http://127.0.0.1:9', keys: { keys: [{ id: 'k1', key: Buffer.alloc(32, 1).toString('base64') }] } })
await middleware.proxy.close()
process.stdout.write(JSON.stringify(results))
`

let failed = 0
try {
  const variants = {
    'import()': [
      'missing-peers.mjs',
      (specifier) => `await import(${specifier.startsWith('continuum') ? `'${specifier}'` : specifier})`,
    ],
    'require()': [
      'missing-peers.cjs',
      (specifier) => `require(${specifier.startsWith('continuum') ? `'${specifier}'` : specifier})`,
    ],
  }
  for (const [label, [file, load]] of Object.entries(variants)) {
    const source = file.endsWith('.cjs') ? `(async () => {${body(load)}})()` : body(load)
    writeFileSync(join(workspace, file), source)
    const output = execFileSync(process.execPath, [join(workspace, file)], {
      cwd: workspace,
      encoding: 'utf8',
    })
    const problems = JSON.parse(output)
    for (const problem of problems) console.error(`missing-peers: FAILED (${label}) ${problem}`)
    failed += problems.length
  }
} finally {
  rmSync(workspace, { recursive: true, force: true })
}
console.log(
  `missing-peers: optional peers absent, ${failed === 0 ? 'every check passed' : `${failed} failed`}`,
)
process.exit(failed === 0 ? 0 : 1)
