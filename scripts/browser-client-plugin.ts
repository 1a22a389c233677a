// esbuild plugins for the client's own builds (tsup.config.ts, test/browser/bundle.ts):
// - for the browser, swaps src/client/hybrid-loader.ts for hybrid-loader.browser.ts, because the hybrid
//   agreement's client half runs on node:crypto for now (see docs/browser.md);
// - leaves out what the server alone loads lazily: the adapters' request schemas and the schema
//   compiler (validation is the server's; ajv goes with them), the adapters' model-visible text
//   readers (the scanner's) and their gateway codecs (the router gateway's). A bundle without code
//   splitting would inline them all: 40% of the file, and ajv for the application's bundler (the
//   Node build, dist/client.js, leaves them out too). Each is a module that throws when loaded, so a
//   client path that ever reached one would fail loudly, not quietly do less.
import { dirname, resolve } from 'node:path'
import type { Plugin } from 'esbuild'

const SERVER_ONLY = /^(\.\/schema|\.\/model-text|\.\.\/gateway\/codecs|\.\/schema-compiler)$/
/** Where those lazy imports are: each adapter's definition, and the route compiler. */
const IMPORTERS = /[/\\](adapters[/\\][^/\\]+[/\\]proxy[/\\]adapter|src[/\\]protocol[/\\]compiled-route)\.ts$/
const NAMESPACE = 'continuum-server-only'

/** Leaves out the server-only lazy modules (the second point above); the client's Node build uses it too. */
export function clientOnlyPlugin(): Plugin {
  return {
    name: 'continuum-client-only',
    setup(build) {
      build.onResolve({ filter: SERVER_ONLY }, (args) =>
        args.kind === 'dynamic-import' && IMPORTERS.test(args.importer)
          ? { path: `${args.importer}:${args.path}`, namespace: NAMESPACE }
          : undefined,
      )
      build.onLoad({ filter: /.*/, namespace: NAMESPACE }, (args) => ({
        contents: `throw new Error(${JSON.stringify(`${args.path.split(/[/\\]/).slice(-3).join('/')} is server-side: the build of continuum-proxy/client does not include it`)})`,
        loader: 'js',
      }))
    },
  }
}

/** The browser build's plugin: both points above. */
export function browserClientPlugin(): Plugin {
  const clientOnly = clientOnlyPlugin()
  return {
    name: 'continuum-browser-client',
    setup(build) {
      build.onResolve({ filter: /[/\\]hybrid-loader(\.ts|\.js)?$/ }, (args) => ({
        path: resolve(dirname(args.importer), 'hybrid-loader.browser.ts'),
      }))
      clientOnly.setup(build)
    },
  }
}
