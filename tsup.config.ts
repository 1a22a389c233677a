// Builds every public entry point (entries/sources.json) as ESM and CJS with bundled type
// declarations, plus the CLI and the FHE worker, which are files rather than exports.
//
// Minified, with function and class names kept (`keepNames`), so stack traces still name their
// functions; the shipped source maps carry the sources (not those of JSON data), so `node --enable-source-maps` and
// debuggers show them. Minifying identifiers and syntax takes a quarter off the code a plain
// setup loads and parses (scripts/measure-surface.mjs). Dependencies and
// peers stay external (tsup reads package.json); so does src/internal/import-module.mjs, the
// native-import trampoline for optional peers, which is copied beside the chunks (minified) so
// the CommonJS build too imports ESM-only peers with a real import(). The Node version check
// (src/internal/supported-node.cjs) is copied the same way, so it runs before undici loads.
//
// The client also ships as one browser file, dist/client.browser.js (the `browser` condition of
// `continuum-proxy/client`): the shared chunks of the Node build name Node builtins, which a
// browser bundler cannot resolve; this file, bundled for the browser and tree-shaken alone, names
// none (test/smoke/load-built.mjs checks it). Its Node files, dist/client.js and client.cjs, are
// rebuilt the same way, alone: split, the entry imported the chunks it shares with the server
// (the adapters' kit reaches the proxy), so loading the client loaded undici and the pipeline,
// 178 CommonJS modules and about 0.33 s, where alone it loads 68 in about 0.1 s (and Deno asks no
// environment access for undici's settings). Errors stay one class across the copies: a brand,
// which `instanceof ContinuumError` reads too.
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { build, transform } from 'esbuild'
import { defineConfig } from 'tsup'
import sources from './entries/sources.json' with { type: 'json' }
import { browserClientPlugin, clientOnlyPlugin } from './scripts/browser-client-plugin'

/**
 * Copies a file the bundle leaves external, minified like the chunks (its comments stay in the
 * source): both load with every entry. No format is given, so the module kind is kept as it is;
 * the target is old (the source's own syntax, Node 14), since the version check has to run on the
 * old Node it stops.
 */
async function copyMinified(source: string, target: string): Promise<void> {
  const { code } = await transform(await readFile(source, 'utf8'), { minify: true, target: 'node14' })
  await writeFile(target, code)
}

/**
 * Takes the content of JSON sources out of the source maps: a data file (the scanner's 350 KB of
 * weights) is in its chunk as it is, so a debugger has nothing to map back to, and in the maps of
 * both formats it was 0.7 MB of the install. The mappings and the code's own sources stay.
 */
async function dropDataSources(folder: string): Promise<void> {
  for (const name of await readdir(folder)) {
    if (!name.endsWith('.map')) continue
    const file = `${folder}/${name}`
    const map = JSON.parse(await readFile(file, 'utf8')) as {
      sources: string[]
      sourcesContent?: (string | null)[]
    }
    const content = map.sourcesContent
    if (content === undefined || !map.sources.some((source) => source.endsWith('.json'))) continue
    map.sourcesContent = content.map((text, index) => (map.sources[index]!.endsWith('.json') ? null : text))
    await writeFile(file, JSON.stringify(map))
  }
}

/** `./router` → `router`, `.` → `index`. */
const entry: Record<string, string> = Object.fromEntries(
  Object.entries(sources).map(([subpath, source]) => [subpath === '.' ? 'index' : subpath.slice(2), source]),
)

export default defineConfig({
  entry: { ...entry, 'fhe-worker': 'src/fhe/worker-entry.ts', cli: 'cli/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  shims: true,
  splitting: true,
  minify: true,
  keepNames: true,
  target: 'node22',
  // The Node version check first in every file: bundling hoists `import 'undici'` to the top of a
  // chunk and does not keep the order between chunks, so an import in the sources is not enough.
  banner: ({ format }) => ({
    js: format === 'esm' ? 'import "./supported-node.cjs";' : 'require("./supported-node.cjs");',
  }),
  platform: 'node',
  external: [
    'express',
    'koa',
    'fastify',
    '@opentelemetry/api',
    'node-seal',
    'redis',
    /\/import-module\.mjs$/,
    /\/supported-node\.cjs$/,
  ],
  async onSuccess() {
    await copyMinified('src/internal/import-module.mjs', 'dist/import-module.mjs')
    await copyMinified('src/internal/supported-node.cjs', 'dist/supported-node.cjs')
    for (const format of ['esm', 'cjs'] as const) {
      await build({
        entryPoints: ['entries/client.ts'],
        outfile: format === 'esm' ? 'dist/client.js' : 'dist/client.cjs',
        bundle: true,
        platform: 'node',
        format,
        target: 'node22',
        packages: 'external',
        external: ['./supported-node.cjs'],
        // As tsup's shims: CommonJS has no import.meta, so its URL comes from __filename.
        ...(format === 'cjs' ? { define: { 'import.meta.url': 'importMetaUrl' } } : {}),
        banner: {
          js:
            format === 'esm'
              ? 'import "./supported-node.cjs";'
              : 'require("./supported-node.cjs");const importMetaUrl=require("node:url").pathToFileURL(__filename).href;',
        },
        minify: true,
        keepNames: true,
        sourcemap: true,
        logLevel: 'warning',
        plugins: [clientOnlyPlugin()],
      })
    }
    await build({
      entryPoints: ['entries/client.ts'],
      outfile: 'dist/client.browser.js',
      bundle: true,
      platform: 'browser',
      format: 'esm',
      target: 'es2022',
      packages: 'external',
      minifyWhitespace: true,
      sourcemap: true,
      logLevel: 'warning',
      plugins: [browserClientPlugin()],
    })
    await dropDataSources('dist')
  },
})
