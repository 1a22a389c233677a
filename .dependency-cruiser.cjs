// The direction of dependencies (docs/architecture.md, "Layers"), checked by `npm run lint`:
// the core never reaches into what is built on it, the folders of src/ form no cycle, and the
// protocol adapters, bindings and entries use src/ only through its public entry files, the
// same surface a third-party adapter or provider has.
const sources = require('./entries/sources.json')

const escapeRegExp = (path) => path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
/** The src/ files an entry in `package.json#exports` is built from (entries/sources.json). */
const publicSources = Object.values(sources).filter((path) => path.startsWith('src/'))
/** The client feature's entry: entries/client.ts composes it with the built-in protocols. */
const composedSources = ['src/client/index.ts']
const publicEntries = `^(${[...publicSources, ...composedSources].map(escapeRegExp).join('|')})$`

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-folder-cycles-in-src',
      comment:
        'The folders of src/ form a directed graph: a feature may use the core, never the reverse ' +
        '(e.g. src/proxy must not import src/cache). Move the shared piece down, or invert the ' +
        'dependency through a contract.',
      severity: 'error',
      scope: 'folder',
      from: { path: '^src/' },
      to: { path: '^src/', circular: true },
    },
    {
      name: 'no-module-cycles',
      comment:
        'Modules import each other in one direction. A cycle closed by a type-only import is allowed: ' +
        'it vanishes at run time (the gateway upstream names the InferenceRouter type that builds it).',
      severity: 'error',
      from: { path: '^(src|adapters|middleware|entries|cli)/' },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'core-stays-below',
      comment: 'src/ never imports the protocols, bindings, entries or the CLI built on it.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(adapters|middleware|entries|cli)/' },
    },
    {
      name: 'adapters-use-public-entries',
      comment:
        'Protocol adapters, bindings and entries import src/ only through its public entry files ' +
        '(src/index.ts, src/provider-kit/index.ts, src/router/index.ts and the feature entries), ' +
        'the surface a third-party adapter or provider has. Export what is missing there by name.',
      severity: 'error',
      from: { path: '^(adapters|middleware|entries|cli)/' },
      to: { path: '^src/', pathNot: publicEntries },
    },
    {
      name: 'bindings-use-adapter-entries',
      comment:
        'Bindings, entries and the CLI reach the protocols through adapters/index.ts and ' +
        'adapters/providers.ts, the same entries users import, never a protocol folder directly; ' +
        "and through adapters/protocols.ts, the bindings' table of built-in protocol names, kept " +
        'apart from index.ts so a binding does not load the adapters it defers.',
      severity: 'error',
      from: { path: '^(middleware|entries|cli)/' },
      to: { path: '^adapters/', pathNot: '^adapters/(index|providers|protocols)\\.ts$' },
    },
    {
      name: 'internal-stays-internal',
      comment: 'src/internal/ carries no stability promise; only src/ itself uses it.',
      severity: 'error',
      from: { pathNot: '^src/' },
      to: { path: '^src/internal/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|dist|\\.tools)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.json'],
    },
  },
}
