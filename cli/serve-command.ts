/**
 * `continuum-proxy serve --config continuum.toml`: the pipeline of the middleware as a standalone
 * server, for teams without a Node service. Proxy mode (`[upstream]`, one inference server) or
 * gateway mode (`[inference]`, the router). Logs are JSON lines on stdout. SIGTERM and SIGINT
 * drain: no new connections, answers in flight (streams included) finish within
 * `server.shutdown_timeout_ms`, then the audit log is flushed and everything closed (exit 0, or 1
 * when something had to be cut). SIGHUP reloads [keys] (key-reload.ts). `--check` builds the
 * pipeline from the file and closes it again without listening.
 */
import { parseArgs } from 'node:util'
import { ContinuumError, type Keyring, type KeyringReloader, type Logger } from '../src/index'
import { type CliCommand, CliUsageError, EXIT } from './cli-command'
import { SERVE } from './command-names'
import { parseOrUsage } from './parse-command-args'
import { jsonLogger, type LogLevel } from './serve/json-logger'
import { KeyReloader } from './serve/key-reload'
import {
  loadServeConfig,
  processSources,
  requestTimeoutFloor,
  type ServeConfigSources,
} from './serve/load-serve-config'
import type { Table } from './serve/option-map'
import { buildPipeline } from './serve/pipeline'
import { parseListen, startStandaloneServer } from './serve/standalone-server'

const USAGE = `Usage: continuum-proxy serve --config <continuum.toml> [--check]

Runs the proxy (an [upstream] section) or the router gateway (an [inference] section) as a
standalone HTTP server, configured by the file: every option, the stages ([telemetry], [audit],
[scanner], [cache]), secrets as env:NAME or file:/path. See docs/proxy-configuration.md.

  --config <file>   the configuration, TOML (or .json)
  --check           build everything from the file, report, and exit without listening

Signals: SIGTERM/SIGINT drain and stop; SIGHUP reloads [keys].`

/** The process seams of the command; tests run it as a real child process instead. */
export interface ServeRuntime {
  readonly sources: ServeConfigSources
  onSignal(signal: NodeJS.Signals, listener: () => void): void
}

const processRuntime: ServeRuntime = {
  sources: processSources,
  onSignal: (signal, listener) => {
    process.on(signal, listener)
  },
}

/** Resolves when a stop signal arrives; reloads keys on SIGHUP meanwhile. */
function waitForStop(runtime: ServeRuntime, reload: () => void): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    runtime.onSignal('SIGTERM', () => resolve('SIGTERM'))
    runtime.onSignal('SIGINT', () => resolve('SIGINT'))
    runtime.onSignal('SIGHUP', reload)
  })
}

function codeOf(error: unknown): string {
  return (error as { code?: unknown }).code === undefined
    ? 'CONTINUUM_INTERNAL'
    : String((error as { code: unknown }).code)
}

/** What SIGHUP reloads: the [keys] section, or the schedule file it names. */
type Reload =
  | { readonly kind: 'keys'; readonly reloader: KeyReloader }
  | { readonly kind: 'schedule'; readonly reloader: KeyringReloader; readonly keyring: Keyring }
  | { readonly kind: 'none' }

async function reloadKeys(path: string, reload: Reload, runtime: ServeRuntime, logger: Logger) {
  if (reload.kind === 'none') {
    logger.warn({}, 'key reload: the server started without [keys]; restart to add keys')
    return
  }
  try {
    if (reload.kind === 'schedule') {
      // The schedule file is read now rather than at the next interval, and ids newly listed in
      // `retired` are refused at once, as without a schedule.
      const change = await reload.reloader.reload()
      const document = await loadServeConfig(path, runtime.sources)
      const retired = ((document.keys as Table | undefined)?.retired as string[] | undefined) ?? []
      for (const id of retired) reload.keyring.retire(id)
      logger.info(
        {
          added: change.added.join(',') || undefined,
          removed: change.removed.join(',') || undefined,
          retired: retired.join(',') || undefined,
        },
        'keys reloaded',
      )
      return
    }
    const document = await loadServeConfig(path, runtime.sources)
    const keys = document.keys as Table | undefined
    if (keys === undefined) throw Object.assign(new Error('no [keys]'), { code: 'CONTINUUM_CONFIG_INVALID' })
    const result = reload.reloader.apply(keys)
    for (const detail of result.ignored) logger.warn({ detail }, 'key reload: ignored until restart')
    logger.info(
      {
        rotated: result.rotated,
        rotatedAgreement: result.rotatedAgreement,
        retired: result.retired.join(',') || undefined,
        ignored: result.ignored.length,
      },
      'keys reloaded',
    )
  } catch (error) {
    // The running keys stay: a half-read file never replaces them.
    logger.error({ code: codeOf(error) }, 'key reload failed; the running keys stay')
  }
}

/** The command, with injectable process seams. */
export function serveCommand(runtime: ServeRuntime = processRuntime): CliCommand {
  return {
    ...SERVE,
    async run(args, io) {
      const { values, positionals } = parseOrUsage(
        () =>
          parseArgs({
            args: [...args],
            options: {
              config: { type: 'string', short: 'c' },
              check: { type: 'boolean' },
              help: { type: 'boolean', short: 'h' },
            },
            allowPositionals: true,
            strict: true,
          }),
        USAGE,
      )
      if (values.help === true) {
        io.stdout(USAGE)
        return EXIT.ok
      }
      if (positionals.length > 0) throw new CliUsageError(`unexpected argument: ${positionals[0]}`, USAGE)
      if (values.config === undefined) throw new CliUsageError('--config <file> is required', USAGE)
      const path = values.config
      const document = await loadServeConfig(path, runtime.sources)
      const server = (document.server as Table | undefined) ?? {}
      const log = (document.log as Table | undefined) ?? {}
      const logger = jsonLogger((log.level as LogLevel | undefined) ?? 'info', io.stdout)
      const pipeline = await buildPipeline(document, logger, runtime.sources)
      if (values.check === true) {
        await pipeline.close()
        io.stderr(
          `configuration OK: ${pipeline.mode} mode, ${pipeline.proxy.options.registry.names.join(', ')}`,
        )
        return EXIT.ok
      }
      let listening: Awaited<ReturnType<typeof startStandaloneServer>>
      try {
        listening = await startStandaloneServer(pipeline.proxy, {
          listen: parseListen((server.listen as string | undefined) ?? '127.0.0.1:8080'),
          ...(server.socket_mode === undefined ? {} : { socketMode: server.socket_mode as string }),
          keepAliveTimeoutMs: (server.keep_alive_timeout_ms as number | undefined) ?? 5_000,
          headersTimeoutMs: (server.headers_timeout_ms as number | undefined) ?? 60_000,
          requestTimeoutMs:
            (server.request_timeout_ms as number | undefined) ??
            Math.max(120_000, requestTimeoutFloor(document)),
        })
      } catch (error) {
        await pipeline.close()
        // A refusal of ours says why (a live server, a symlink at the path); a system error has its code.
        const reason = ContinuumError.isInstance(error) ? `${error.code}: ${error.message}` : codeOf(error)
        throw new CliUsageError(
          `cannot listen on ${String(server.listen ?? '127.0.0.1:8080')} (${reason})`,
          USAGE,
        )
      }
      logger.info({ address: listening.address, mode: pipeline.mode }, 'listening')
      const reload: Reload =
        pipeline.keyring === undefined
          ? { kind: 'none' }
          : pipeline.schedule === undefined
            ? { kind: 'keys', reloader: new KeyReloader(pipeline.keyring, document.keys as Table) }
            : { kind: 'schedule', reloader: pipeline.schedule, keyring: pipeline.keyring }
      const signal = await waitForStop(runtime, () => void reloadKeys(path, reload, runtime, logger))
      listening.stopAccepting()
      logger.info({ signal, inFlight: listening.inFlight }, 'shutting down')
      const drained = await listening.drain((server.shutdown_timeout_ms as number | undefined) ?? 30_000)
      await pipeline.close()
      logger.info({ drained }, 'stopped')
      return drained ? EXIT.ok : EXIT.failed
    },
  }
}
