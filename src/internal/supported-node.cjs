// The import-time check of the Node.js version. The package needs Node >= 22.12 (`engines`); on an
// older one a dependency fails deep inside its own code with a message that names neither the
// cause nor the fix (undici on Node 20: "Cannot read properties of undefined (reading 'bind')").
// The modules that load such a dependency import this file first, so an old Node stops here with a
// coded error (CONTINUUM_UNSUPPORTED_RUNTIME, a ContinuumError by its Symbol.for marker) that says
// what to do.
//
// Plain CommonJS, kept apart from the bundle (tsup.config.ts copies it beside the chunks): a
// bundled module with no exports would be tree-shaken away under `sideEffects: false`, and in an ES
// module chunk the bundler hoists `import 'undici'` above any inlined code. An external import of
// this file stays in place, ahead of undici's, and both the ESM and the CommonJS build can load it.
'use strict'

const REQUIRED = { major: 22, minor: 12 }
const version = typeof process === 'object' && process !== null ? process.versions?.node : undefined

if (typeof version === 'string') {
  const [major = 0, minor = 0] = version.split('.').map((part) => Number.parseInt(part, 10))
  if (major < REQUIRED.major || (major === REQUIRED.major && minor < REQUIRED.minor)) {
    const error = new Error(
      `continuum-proxy needs Node.js >= ${REQUIRED.major}.${REQUIRED.minor}; this is Node.js ${version}. ` +
        'Install Node.js 22 LTS or newer (https://nodejs.org/), or in a clone of the repository run ' +
        '`source scripts/ensure-node.sh`, which puts Node 22 on PATH.',
    )
    error.name = 'ContinuumError'
    Object.assign(error, {
      code: 'CONTINUUM_UNSUPPORTED_RUNTIME',
      status: 500,
      type: 'configuration_error',
      isRetryable: false,
      details: { node: version, required: `>=${REQUIRED.major}.${REQUIRED.minor}` },
    })
    Object.defineProperty(error, Symbol.for('continuum-proxy.error'), { value: true })
    throw error
  }
}
