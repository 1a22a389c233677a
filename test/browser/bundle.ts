/**
 * Bundles a test entry for the browser with esbuild, the way an application's bundler would:
 * platform `browser`, `continuum-proxy/client` resolved to its sources. Any `node:` import (or a
 * bare Node builtin) that survives into the bundle fails the build: the client must run on web
 * APIs alone. Modules the bundle only reaches through the package's shared barrel may mention a
 * builtin as long as tree shaking removes it; what the browser would load is what is checked.
 */
import { builtinModules } from 'node:module'
import { fileURLToPath } from 'node:url'
import { build, type Metafile, type Plugin } from 'esbuild'
import { browserClientPlugin } from '../../scripts/browser-client-plugin'

const root = fileURLToPath(new URL('../..', import.meta.url))
const builtins = new Set(builtinModules)

/** A bundle and what it is made of. */
export interface BrowserBundle {
  code: string
  metafile: Metafile
  /** Node builtins some input of the bundle names (removed again by tree shaking, or the build fails). */
  mentioned: string[]
}

/** Marks Node builtins external and records them, so their survival in the output can be checked. */
function recordBuiltins(mentioned: Set<string>): Plugin {
  return {
    name: 'record-node-builtins',
    setup(builder) {
      builder.onResolve({ filter: /.*/ }, (args) => {
        const bare = args.path.replace(/^node:/, '').split('/')[0]!
        if (!args.path.startsWith('node:') && !builtins.has(bare)) return undefined
        mentioned.add(args.path)
        return { path: args.path, external: true }
      })
    },
  }
}

/** Bundles `entry` (a path relative to the repository root) for the browser as one ES module. */
export async function bundleForBrowser(entry: string): Promise<BrowserBundle> {
  const mentioned = new Set<string>()
  const result = await build({
    absWorkingDir: root,
    entryPoints: [entry],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    write: false,
    metafile: true,
    logLevel: 'silent',
    alias: { 'continuum-proxy/client': './entries/client.ts' },
    plugins: [browserClientPlugin(), recordBuiltins(mentioned)],
  })
  const code = result.outputFiles[0]!.text
  // The imports esbuild kept in the output after tree shaking: what a browser would try to load.
  const output = Object.values(result.metafile.outputs)[0]!
  const surviving = output.imports.filter((item) => item.external).map((item) => item.path)
  if (surviving.length > 0) {
    throw new Error(
      `the browser bundle of ${entry} imports Node builtins: ${[...new Set(surviving)].join(', ')}`,
    )
  }
  return { code, metafile: result.metafile, mentioned: [...mentioned].sort() }
}
