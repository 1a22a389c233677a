// Smoke test of the built package: every entry point loads through its `exports` condition with
// both require() and import(), and exposes its main symbols; a plain Express setup loads none of
// prom-client, ajv-formats or the scanner weights. Run after `tsup` (npm run build).
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { FORBIDDEN_PACKAGES, measureImport } from '../../scripts/measure-surface.mjs'

const require = createRequire(import.meta.url)
const expectations = {
  'continuum-proxy': ['createProxy', 'Keyring', 'defineAdapter', 'AdapterRegistry', 'ContinuumError'],
  'continuum-proxy/express': ['continuum'],
  'continuum-proxy/koa': ['continuum'],
  'continuum-proxy/fastify': ['continuum'],
  'continuum-proxy/client': ['createEncryptedFetch', 'ContinuumError'],
  'continuum-proxy/adapters': ['builtinAdapters'],
  'continuum-proxy/providers': ['openai', 'createDefaultProviderRegistry'],
  'continuum-proxy/adapter-kit': ['defineAdapter', 'createProxy', 'AdapterRegistry', 'ContinuumError'],
  'continuum-proxy/provider-kit': ['ProviderHttp', 'defineProviderType'],
  'continuum-proxy/router': ['InferenceRouter', 'loadRouterConfig'],
  'continuum-proxy/scanner': ['PromptScanner', 'ScannerStage'],
  'continuum-proxy/classifier': ['DataClassifier'],
  'continuum-proxy/audit': ['AuditLog', 'AuditStage'],
  'continuum-proxy/telemetry': ['Telemetry'],
  'continuum-proxy/cache': ['ResponseCache', 'CacheStage'],
  'continuum-proxy/privacy': ['PrivacyAccountant'],
  'continuum-proxy/fhe': ['FheKeyManager', 'FheService', 'createFheHandler'],
  'continuum-proxy/redis': ['RedisStateStore', 'createRedisStateStore'],
}
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
const sources = JSON.parse(readFileSync(new URL('../../entries/sources.json', import.meta.url), 'utf8'))
for (const subpath of Object.keys(sources)) {
  const specifier = subpath === '.' ? 'continuum-proxy' : `continuum-proxy/${subpath.slice(2)}`
  check(`${specifier} is covered by the smoke test`, specifier in expectations)
}
// node-seal is ESM-only (no require condition); both builds import it natively on first use.
const { FheKeyManager } = await import('continuum-proxy/fhe')
const manager = await FheKeyManager.generate({ parameters: 'ckks-4096' })
check('the fhe entry (ESM) loads node-seal and generates keys', typeof manager === 'object')
const cjsManager = await require('continuum-proxy/fhe').FheKeyManager.generate({ parameters: 'ckks-4096' })
check('the fhe entry (CJS) loads node-seal and generates keys', typeof cjsManager === 'object')
// With the optional peers installed, Bedrock's signing packages load natively from both builds:
// the call gets past signing and fails only on the closed port.
for (const [label, { bedrock }] of [
  ['ESM', await import('continuum-proxy/providers')],
  ['CJS', require('continuum-proxy/providers')],
]) {
  const provider = bedrock({
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret' },
    baseURL: 'http://127.0.0.1:9',
  })
  const error = await provider
    .complete({ model: 'm', messages: [{ role: 'user', content: 'hi' }], maxTokens: 8 })
    .catch((caught) => caught)
  check(`bedrock (${label}) signs with the optional peers`, error?.code === 'CONTINUUM_PROVIDER_UNAVAILABLE')
}
const surface = measureImport()
for (const name of FORBIDDEN_PACKAGES) {
  check(`a plain Express setup does not load ${name}`, !surface.packages.includes(name))
}
check('a plain Express setup does not load the scanner weights', !surface.scannerWeights)
// The built-in adapters load their request schemas on a route's first request (dist/schema-*.js).
const schemaFiles = readdirSync(new URL('../../dist/', import.meta.url)).filter((file) =>
  /^schema-.*\.js$/.test(file),
)
check(
  'a plain Express setup loads no request schema until a request needs one',
  schemaFiles.length > 0 && !surface.ownFiles.some(({ file }) => schemaFiles.includes(file)),
)
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
// What a browser bundler resolves for `continuum-proxy/client` (the `browser` condition): bundled
// for the browser from the package as installed, it must import no Node builtin.
const { build } = await import('esbuild')
const { builtinModules } = await import('node:module')
const browserBuild = await build({
  stdin: { contents: "export * from 'continuum-proxy/client'", resolveDir: process.cwd() },
  // Not the repository's tsconfig paths, which map the package to its sources: the built package.
  tsconfigRaw: {},
  bundle: true,
  platform: 'browser',
  format: 'esm',
  write: false,
  metafile: true,
  logLevel: 'silent',
  plugins: [
    {
      name: 'node-builtins-external',
      setup(builder) {
        builder.onResolve({ filter: /.*/ }, (args) =>
          args.path.startsWith('node:') || builtinModules.includes(args.path.split('/')[0])
            ? { path: args.path, external: true }
            : undefined,
        )
      },
    },
  ],
})
const browserImports = Object.values(browserBuild.metafile.outputs)[0].imports.filter((item) => item.external)
check(
  `continuum-proxy/client bundles for the browser without Node builtins (${browserImports.map((item) => item.path)})`,
  browserImports.length === 0 &&
    Object.keys(browserBuild.metafile.inputs).some((input) => input.endsWith('client.browser.js')),
)
console.log(`smoke: ${passed} passed, ${failed} failed`)
process.exit(failed === 0 ? 0 : 1)
