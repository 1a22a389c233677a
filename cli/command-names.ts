/**
 * The top-level commands' names and help lines, apart from their code: the dispatcher lists them
 * in its usage and loads a command's module only when it runs, so `keygen` or `--help` does not
 * load the server, the router or their schemas. Each command module takes its line from here.
 */

/** A command's word and its one line of help. */
export interface CommandName {
  readonly name: string
  readonly summary: string
}

export const SERVE: CommandName = {
  name: 'serve',
  summary: 'run the proxy or the router gateway as a standalone server (--config continuum.toml)',
}
export const KEYGEN: CommandName = { name: 'keygen', summary: 'make field, agreement and audit keys' }
export const FINGERPRINT: CommandName = {
  name: 'fingerprint',
  summary: 'print the agreement key fingerprint clients pin (from a server or a key file)',
}
export const AUDIT: CommandName = {
  name: 'audit',
  summary: 'verify tamper-evident audit logs, make signing keys',
}
export const MODEL: CommandName = {
  name: 'model',
  summary: 'sign and verify model manifests, make signing keys',
}
