/**
 * Real redis-server processes for the tests: a standalone server, or a 3-master Redis Cluster
 * built with `redis-cli --cluster create`, each on free loopback ports with its own temporary
 * directory and no persistence, stopped (and its directory removed) by `stop()`. `.ci/run`
 * installs Debian's redis-server; the tests fail loudly when it is missing.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { closedPort } from '../kit/server'

const run = promisify(execFile)

async function cli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], {
    timeout: 20_000,
  })
  return stdout
}

async function waitForPing(port: number): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    try {
      if ((await cli(port, 'PING')).trim() === 'PONG') return
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  throw new Error(`redis-server on port ${port} did not start`)
}

/** One running redis-server. */
export interface RedisServer {
  readonly port: number
  readonly url: string
  /** Stops the process (SIGKILL: an outage, not a shutdown), keeping the port for `start()`. */
  kill(): Promise<void>
  /** Starts it again on the same port (after `kill()`). */
  start(): Promise<void>
  stop(): Promise<void>
}

async function launch(port: number, directory: string, extra: readonly string[]): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      directory,
      ...extra,
    ],
    { stdio: 'ignore' },
  )
  child.once('error', (error) => {
    throw new Error(`cannot start redis-server (is the redis-server package installed?): ${error.message}`)
  })
  await waitForPing(port)
  return child
}

async function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  await new Promise((resolve) => child.once('exit', resolve))
}

/** Starts a standalone redis-server. */
export async function startRedis(extra: readonly string[] = []): Promise<RedisServer> {
  const directory = await mkdtemp(join(tmpdir(), 'continuum-redis-'))
  const port = await closedPort()
  let child: ChildProcess | undefined = await launch(port, directory, extra)
  async function kill(): Promise<void> {
    if (child === undefined) return
    const dying = child
    child = undefined
    dying.kill('SIGKILL')
    await exited(dying)
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill,
    async start() {
      child ??= await launch(port, directory, extra)
    },
    async stop() {
      await kill()
      await rm(directory, { recursive: true, force: true })
    },
  }
}

/** A running 3-master cluster. */
export interface RedisCluster {
  readonly nodes: readonly RedisServer[]
  /** Root node URLs for `createCluster`. */
  readonly rootNodes: readonly string[]
  /** Moves one hash slot (with its keys) to another master, as a resharding would. */
  moveSlot(slot: number, toNode: number): Promise<void>
  /** The index of the node that serves a slot now. */
  ownerOf(slot: number): Promise<number>
  /** The hash slot of a key, as the cluster computes it. */
  slotOf(key: string): Promise<number>
  stop(): Promise<void>
}

async function nodeId(port: number): Promise<string> {
  return (await cli(port, 'CLUSTER', 'MYID')).trim()
}

/** Starts three cluster-enabled servers and joins them into one cluster with every slot assigned. */
export async function startRedisCluster(): Promise<RedisCluster> {
  const nodes: RedisServer[] = []
  for (let index = 0; index < 3; index++) {
    nodes.push(
      await startRedis([
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        `nodes-${index}.conf`,
        '--cluster-node-timeout',
        '2000',
      ]),
    )
  }
  await run(
    'redis-cli',
    [
      '--cluster',
      'create',
      ...nodes.map((node) => `127.0.0.1:${node.port}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ],
    { timeout: 30_000 },
  )
  // Wait until every node agrees that all 16384 slots are served.
  for (let attempt = 0; attempt < 200; attempt++) {
    const states = await Promise.all(nodes.map((node) => cli(node.port, 'CLUSTER', 'INFO')))
    if (states.every((state) => state.includes('cluster_state:ok'))) break
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  const ids = await Promise.all(nodes.map((node) => nodeId(node.port)))
  async function ownerOf(slot: number): Promise<number> {
    const slots = await cli(nodes[0]!.port, '--json', 'CLUSTER', 'SLOTS')
    for (const [start, end, master] of JSON.parse(slots) as [number, number, [string, number]][]) {
      if (slot >= start && slot <= end) return nodes.findIndex((node) => node.port === master[1])
    }
    throw new Error(`slot ${slot} is not served`)
  }
  return {
    nodes,
    rootNodes: nodes.map((node) => node.url),
    ownerOf,
    async slotOf(key) {
      return Number((await cli(nodes[0]!.port, 'CLUSTER', 'KEYSLOT', key)).trim())
    },
    async moveSlot(slot, toNode) {
      const from = await ownerOf(slot)
      if (from === toNode) return
      const source = nodes[from]!
      const target = nodes[toNode]!
      await cli(target.port, 'CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', ids[from]!)
      await cli(source.port, 'CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', ids[toNode]!)
      for (;;) {
        const keys = (await cli(source.port, 'CLUSTER', 'GETKEYSINSLOT', String(slot), '100'))
          .split('\n')
          .filter((key) => key !== '')
        if (keys.length === 0) break
        await cli(source.port, 'MIGRATE', '127.0.0.1', String(target.port), '', '0', '5000', 'KEYS', ...keys)
      }
      for (const node of nodes) await cli(node.port, 'CLUSTER', 'SETSLOT', String(slot), 'NODE', ids[toNode]!)
    },
    async stop() {
      await Promise.all(nodes.map((node) => node.stop()))
    },
  }
}
