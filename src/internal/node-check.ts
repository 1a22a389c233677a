/**
 * Loads the Node.js version check (supported-node.cjs) ahead of dependencies that fail obscurely
 * on an old Node: modules that import undici import this one first. The check stays a file of its
 * own beside the chunks (see its comment), and package.json lists it under `sideEffects`, so
 * neither our build nor an application's bundler drops the import (test/smoke/load-built.mjs
 * bundles an app and runs it as Node 20).
 */
import './supported-node.cjs'
