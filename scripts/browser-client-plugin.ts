// esbuild plugin for browser builds of the client (tsup.config.ts, test/browser/bundle.ts): swaps
// src/client/hybrid-loader.ts for hybrid-loader.browser.ts, because the hybrid agreement's client
// half runs on node:crypto for now (see docs/browser.md).
import { dirname, resolve } from 'node:path'
import type { Plugin } from 'esbuild'

/** The plugin; see above. */
export function browserClientPlugin(): Plugin {
  return {
    name: 'continuum-browser-client',
    setup(build) {
      build.onResolve({ filter: /[/\\]hybrid-loader(\.ts|\.js)?$/ }, (args) => ({
        path: resolve(dirname(args.importer), 'hybrid-loader.browser.ts'),
      }))
    },
  }
}
