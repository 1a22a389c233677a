// Smoke test of the built package: every entry point loads through its `exports` condition with
// both require() and import(), and exposes its main symbols; a plain Express setup loads at most
// 100 KB of the package's code and none of prom-client, ajv-formats, the scanner weights, the
// stream path or the deferred adapters, which load on first use from both builds. Run after
// `tsup` (npm run build).
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
// The client is built on its own (tsup.config.ts): loading it loads none of the server, and its
// errors are instanceof the root entry's ContinuumError all the same.
for (const [label, program] of [
  ['ESM', "const c = await import('continuum-proxy/client');"],
  ['CJS', "const c = require('continuum-proxy/client');"],
]) {
  const report = execFileSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { createRequire } from 'node:module'; const require = createRequire(process.cwd() + '/'); ${program}
      const loaded = Object.keys(require.cache).filter((file) => /[\\/]node_modules[\\/](undici|prom-client)[\\/]/.test(file)).length;
      const root = await import('continuum-proxy');
      const error = new c.ContinuumError('CONTINUUM_INTERNAL', 'x');
      console.log(JSON.stringify({ loaded, crossCopy: error instanceof root.ContinuumError && !(new Error('x') instanceof root.ContinuumError) }))`,
    ],
    { encoding: 'utf8' },
  )
  const { loaded, crossCopy } = JSON.parse(report)
  check(`continuum-proxy/client (${label}) loads neither undici nor prom-client`, loaded === 0)
  check(`a client ContinuumError (${label}) is instanceof the root entry's`, crossCopy === true)
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
// What else a plain setup leaves unloaded, each found by a string only its code holds: the stream
// path (loaded on the first streamed response) and the deferred TGI, Triton and Ollama adapters
// (loaded on the first request to one of their routes, and only when named).
const loadedText = surface.ownFiles
  .map(({ file }) => readFileSync(new URL(`../../dist/${file}`, import.meta.url), 'utf8'))
  .join('\n')
for (const [part, marker] of [
  ['the stream path', 'Upstream ended the stream without its terminal event'],
  ["the TGI adapter's definitions", 'decoder_input_details'],
  ["the Triton adapter's definitions", 'exclude_input_in_output'],
  ["the Ollama adapter's definitions", 'mirostat_tau'],
]) {
  check(`a plain Express setup does not load ${part}`, !loadedText.includes(marker))
}
check(
  `a plain Express setup loads at most 100 KB of the package's code (${(surface.ownBytes / 1024).toFixed(1)} KB)`,
  surface.ownBytes <= 100 * 1024,
)
// The lazily loaded parts load from the built files of both formats: a burst of first requests,
// streamed and not, on a fresh proxy serving OpenAI and the deferred TGI adapter.
const { createServer } = await import('node:http')
const fakeUpstream = createServer((request, response) => {
  let text = ''
  request.on('data', (chunk) => {
    text += chunk
  })
  request.on('end', () => {
    const body = JSON.parse(text)
    if (request.url === '/generate') {
      response.writeHead(200, { 'content-type': 'application/json' })
      response.end(JSON.stringify({ generated_text: `tgi: ${body.inputs}` }))
      return
    }
    const content = body.messages[0].content
    const chunk = (delta) => ({ id: 'c', object: 'chat.completion.chunk', choices: [{ index: 0, delta }] })
    if (body.stream !== true) {
      response.writeHead(200, { 'content-type': 'application/json' })
      response.end(
        JSON.stringify({ id: 'c', choices: [{ index: 0, message: { role: 'assistant', content } }] }),
      )
      return
    }
    response.writeHead(200, { 'content-type': 'text/event-stream' })
    for (const word of content.split(' '))
      response.write(`data: ${JSON.stringify(chunk({ content: `${word} ` }))}\n\n`)
    response.end('data: [DONE]\n\n')
  })
})
await new Promise((resolve) => fakeUpstream.listen(0, '127.0.0.1', resolve))
const express = require('express')
const fieldKey = Buffer.alloc(32, 7).toString('base64')
for (const [label, load] of [
  ['ESM', (specifier) => import(specifier)],
  ['CJS', async (specifier) => require(specifier)],
]) {
  const { continuum } = await load('continuum-proxy/express')
  const { createEncryptedFetch } = await load('continuum-proxy/client')
  const middleware = continuum({
    upstream: `http://127.0.0.1:${fakeUpstream.address().port}`,
    keys: { keys: [{ id: 'k1', key: fieldKey }] },
    adapters: ['openai', 'tgi'],
  })
  const app = express().use(middleware)
  const server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening))
  })
  const base = `http://127.0.0.1:${server.address().port}`
  const encrypted = createEncryptedFetch({ keyId: 'k1', key: fieldKey })
  const post = (path, body) =>
    encrypted(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }).then(async (response) => ({ status: response.status, text: await response.text() }))
  const chat = (content, stream) =>
    post('/v1/chat/completions', { model: 'm', stream, messages: [{ role: 'user', content }] })
  const answers = await Promise.all([
    ...Array.from({ length: 6 }, (_, index) => chat(`streamed words ${index}`, true)),
    chat('plain json', false),
    post('/generate', { inputs: 'deferred' }),
  ])
  const streams = answers.slice(0, 6)
  check(
    `the built package (${label}) streams a burst of first streamed responses whole`,
    streams.every(
      (answer, index) =>
        answer.status === 200 &&
        answer.text.includes(`"content":"${index} "`) &&
        answer.text.trimEnd().endsWith('data: [DONE]'),
    ),
  )
  check(
    `the built package (${label}) answers JSON among them`,
    answers[6].status === 200 && answers[6].text.includes('plain json'),
  )
  check(
    `the built package (${label}) loads the deferred TGI adapter on its first request`,
    answers[7].status === 200 && JSON.parse(answers[7].text).generated_text === 'tgi: deferred',
  )
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
  await middleware.proxy.close()
}
fakeUpstream.closeAllConnections()
await new Promise((resolve) => fakeUpstream.close(resolve))
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
// Nor a package: the schemas, their compiler and ajv are the server's (scripts/browser-client-plugin.ts).
const bundledPackages = Object.keys(browserBuild.metafile.inputs).filter((input) =>
  input.includes('node_modules/'),
)
check(
  `continuum-proxy/client bundles for the browser without any package (${bundledPackages.slice(0, 3)})`,
  bundledPackages.length === 0,
)
// What a server bundler makes of the package: `sideEffects` must keep the version check that
// every built file imports first, so a bundled app on an old Node still stops with its coded error.
const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs')
const { tmpdir } = await import('node:os')
const { join } = await import('node:path')
const serverBuild = await build({
  stdin: {
    contents: "import { continuum } from 'continuum-proxy/express'\nconsole.log(typeof continuum)",
    resolveDir: process.cwd(),
  },
  tsconfigRaw: {},
  bundle: true,
  platform: 'node',
  format: 'esm',
  // The usual recipe for an ES module bundle on Node: bundled CommonJS dependencies call require().
  banner: {
    js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
  },
  write: false,
  logLevel: 'silent',
  external: ['express', 'koa', 'fastify', '@opentelemetry/api', 'node-seal', 'redis'],
})
const dropped = serverBuild.warnings.filter((warning) => warning.text.includes('supported-node.cjs'))
check(
  `a server bundle keeps the Node version check (${dropped.map((item) => item.text)})`,
  dropped.length === 0,
)
const bundleFolder = mkdtempSync(join(tmpdir(), 'continuum-bundle-'))
try {
  const bundled = join(bundleFolder, 'app.mjs')
  writeFileSync(bundled, serverBuild.outputFiles[0].text)
  const runBundle = (...flags) => {
    try {
      return {
        status: 0,
        output: execFileSync(process.execPath, [...flags, bundled], { encoding: 'utf8', stdio: 'pipe' }),
      }
    } catch (error) {
      return { status: error.status, output: `${error.stdout}${error.stderr}` }
    }
  }
  const current = runBundle()
  check(
    `the bundled app runs on this Node (${current.output.slice(0, 400)})`,
    current.output.trim() === 'function',
  )
  // Node 20 as the check sees it: the bundle must stop with the coded error, not deep in undici.
  const asOldNode = `data:text/javascript,Object.defineProperty(process,'versions',{value:{...process.versions,node:'20.0.0'}})`
  const old = runBundle('--import', asOldNode)
  check(
    'the bundled app stops on Node 20 with CONTINUUM_UNSUPPORTED_RUNTIME',
    old.status !== 0 && old.output.includes('CONTINUUM_UNSUPPORTED_RUNTIME'),
  )
} finally {
  rmSync(bundleFolder, { recursive: true, force: true })
}
console.log(`smoke: ${passed} passed, ${failed} failed`)
process.exit(failed === 0 ? 0 : 1)
