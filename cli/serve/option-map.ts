/**
 * How a configuration file becomes library options, exhaustive by construction. For each options
 * type the server builds (ProxyOptions, KeyringOptions, TelemetryOptions, ...) an `OptionMap`
 * lists every one of its fields, because its type is a mapped type over `keyof`: a field added to
 * the library does not compile here until it is given a file key, a whole section, or a reason it
 * has no file form. The same maps build the options and write the configuration reference
 * (docs/proxy-configuration.md), so file, code and documentation cannot drift apart.
 */

/** A table of the configuration file (TOML or JSON). */
export type Table = Record<string, unknown>

/** Where an option's value comes from. */
export type OptionSource =
  /** A key of the file, as `section.key` (e.g. `proxy.body_limit`). */
  | { readonly key: string }
  /** Several keys together (e.g. `store.url` or `store.cluster_nodes`). */
  | { readonly keys: readonly string[] }
  /** A whole section (e.g. `inference`, the router configuration). */
  | { readonly section: string }
  /** Several sections together (the stages). */
  | { readonly sections: readonly string[] }
  /** Set by the server itself, or only in code; the text says why. */
  | { readonly code: string }

/** One option of a map: its source and, when the file value needs converting, how. */
export interface OptionEntry<Value, Context> {
  readonly from: OptionSource
  /** Builds the value; the default reads the `key` source as it is in the file. */
  readonly value?: (document: Table, context: Context) => Value | undefined
}

/** Every field of `Options`, each with its source. */
export type OptionMap<Options, Context> = {
  readonly [Name in keyof Options]-?: OptionEntry<Options[Name], Context>
}

/** Reads `section.key` from a document; undefined when the section or key is absent. */
export function readKey(document: Table, path: string): unknown {
  const [section, ...rest] = path.split('.')
  const table = document[section!] as Table | undefined
  return table?.[rest.join('.')]
}

/** Builds the options an OptionMap describes from a validated, resolved document. */
export function buildOptions<Options, Context>(
  map: OptionMap<Options, Context>,
  document: Table,
  context: Context,
): Options {
  const options: Record<string, unknown> = {}
  for (const [name, entry] of Object.entries(map) as [string, OptionEntry<unknown, Context>][]) {
    const value =
      entry.value !== undefined
        ? entry.value(document, context)
        : 'key' in entry.from
          ? readKey(document, entry.from.key)
          : undefined
    if (value !== undefined) options[name] = value
  }
  return options as Options
}
