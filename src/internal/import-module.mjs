// The one place the package imports an optional peer dependency: a native dynamic import() in an
// ES module. The CommonJS build requires this file (Node >= 22.12 requires ES modules without
// top-level await) instead of rewriting import() into require(), so an ESM-only package such as
// node-seal, whose exports have no require condition, loads from both builds. The build copies
// this file beside the chunks unchanged (tsup.config.ts).

/** Imports `specifier` natively, resolved from this file's location. */
export function importModule(specifier) {
  return import(specifier)
}
