// Smoke test of the built package: every entry point loads through its `exports` condition with
// both require() and import(), and exposes its main symbols. Run after `tsup` (npm run build).
import { execFileSync } from 'node:child_process'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const expectations = {
  'continuum-proxy': ['createProxy', 'Keyring', 'defineAdapter', 'AdapterRegistry', 'ContinuumError'],
  'continuum-proxy/express': ['continuum'],
  'continuum-proxy/koa': ['continuum'],
  'continuum-proxy/fastify': ['continuum'],
  'continuum-proxy/client': ['createEncryptedFetch', 'ContinuumError'],
  'continuum-proxy/adapters': ['builtinAdapters'],
  'continuum-proxy/providers': ['openai', 'createDefaultProviderRegistry'],
  'continuum-proxy/provider-kit': ['ProviderHttp', 'defineProviderType'],
  'continuum-proxy/router': ['InferenceRouter', 'loadRouterConfig'],
  'continuum-proxy/scanner': ['PromptScanner', 'ScannerStage'],
  'continuum-proxy/classifier': ['DataClassifier'],
  'continuum-proxy/audit': ['AuditLog', 'AuditStage'],
  'continuum-proxy/telemetry': ['Telemetry'],
  'continuum-proxy/cache': ['ResponseCache', 'CacheStage'],
  'continuum-proxy/privacy': ['PrivacyAccountant'],
}
// node-seal is ESM-only, so the fhe entry point is too.
const esmOnly = { 'continuum-proxy/fhe': ['FheKeyManager', 'FheService', 'createFheHandler'] }
let passed = 0
let failed = 0
function check(label, condition) {
  if (condition) passed++
  else {
    failed++
    console.error(`smoke: FAILED ${label}`)
  }
}
for (const [specifier, names] of Object.entries(expectations)) {
  const esm = await import(specifier)
  const cjs = require(specifier)
  check(`${specifier} loads as ESM`, typeof esm === 'object')
  check(`${specifier} loads as CJS`, typeof cjs === 'object')
  for (const name of names) {
    check(`${specifier} ESM exports ${name}`, typeof esm[name] === 'function')
    check(`${specifier} CJS exports ${name}`, typeof cjs[name] === 'function')
  }
}
for (const [specifier, names] of Object.entries(esmOnly)) {
  const esm = await import(specifier)
  for (const name of names) check(`${specifier} ESM exports ${name}`, typeof esm[name] === 'function')
}
const { FheKeyManager } = await import('continuum-proxy/fhe')
const manager = await FheKeyManager.generate({ parameters: 'ckks-4096' })
check('the fhe entry loads node-seal and generates keys', typeof manager === 'object')
const { ContinuumError } = require('continuum-proxy')
const esmRoot = await import('continuum-proxy')
check(
  'errors are recognised across module formats',
  esmRoot.ContinuumError.isInstance(new ContinuumError('CONTINUUM_INTERNAL', 'x')),
)
const help = execFileSync(
  process.execPath,
  [new URL('../../dist/cli.js', import.meta.url).pathname, '--help'],
  { encoding: 'utf8' },
)
check('the CLI prints its usage', help.includes('audit'))
console.log(`smoke: ${passed} passed, ${failed} failed`)
process.exit(failed === 0 ? 0 : 1)
