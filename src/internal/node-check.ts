/**
 * Loads the Node.js version check (supported-node.cjs) ahead of dependencies that fail obscurely
 * on an old Node: modules that import undici import this one first. The check stays a file of its
 * own beside the chunks (see its comment), and package.json lists this module under `sideEffects`
 * so the bundler keeps the import.
 */
import './supported-node.cjs'
