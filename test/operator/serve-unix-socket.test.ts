/**
 * `continuum-proxy serve` on a Unix socket, as a local attacker sees it. A socket bound and then
 * chmod-ed exists for a moment with the umask's mode, and any local user may connect in that
 * window; so the directory is watched (inotify through fs.watch, whose events the kernel queues
 * however late the watcher reads them) and the socket's name must never change attributes after it
 * appeared. A socket file left by a crashed server is replaced; a live server's socket, and a
 * symlink planted at the path, are refused and left as they were, the symlink's target untouched.
 */
import { spawn } from 'node:child_process'
import { type FSWatcher, watch } from 'node:fs'
import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises'
import { request as httpRequest } from 'node:http'
import { connect, createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startOpenAIUpstream } from '../kit/openai-echo'
import type { FakeUpstream } from '../kit/server'
import { killServed, type ServedProcess, startServe } from '../support/serve-process'

let folder: string
let upstream: FakeUpstream

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'continuum-serve-socket-'))
  upstream = await startOpenAIUpstream()
})

afterAll(async () => {
  killServed()
  await upstream.close()
  await rm(folder, { recursive: true, force: true })
})

let configs = 0

async function serveOn(socket: string, extra = ''): Promise<ServedProcess> {
  const config = join(folder, `serve-${configs++}.toml`)
  await writeFile(
    config,
    `[server]\nlisten = "unix:${socket}"\n${extra}[upstream]\nurl = "${upstream.url}"\n`,
  )
  return startServe(config)
}

function statusOver(socket: string, path: string): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    httpRequest({ socketPath: socket, path }, (response) => {
      response.resume()
      resolve(response.statusCode)
    })
      .on('error', reject)
      .end()
  })
}

/** What fs.watch reported for one directory, in order. */
interface DirectoryEvents {
  readonly events: { type: string; name: string }[]
  /** Creates `name` in the directory and waits for its event: every earlier event has arrived. */
  flush(name: string): Promise<void>
  close(): void
}

function watchDirectory(directory: string): DirectoryEvents {
  const events: { type: string; name: string }[] = []
  const waiting: (() => void)[] = []
  const watcher: FSWatcher = watch(directory, (type, name) => {
    events.push({ type, name: String(name) })
    for (const wake of waiting.splice(0)) wake()
  })
  return {
    events,
    async flush(name) {
      await writeFile(join(directory, name), '')
      while (!events.some((event) => event.name === name))
        await new Promise<void>((resolve) => waiting.push(resolve))
    },
    close: () => watcher.close(),
  }
}

/** Leaves a socket file nobody listens on, as a server killed with SIGKILL does. */
async function staleSocket(path: string): Promise<void> {
  const child = spawn(
    process.execPath,
    [
      '-e',
      `require('node:net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`,
    ],
    { stdio: 'ignore' },
  )
  await new Promise((resolve) => child.once('exit', resolve))
  expect((await lstat(path)).isSocket()).toBe(true)
}

describe('serve on a Unix socket', () => {
  it('gives the socket its mode before it has its name, and removes it on stop', async () => {
    const directory = join(folder, 'run-mode')
    await mkdir(directory)
    const socket = join(directory, 'continuum.sock')
    const watched = watchDirectory(directory)
    try {
      const started = await serveOn(socket, 'socket_mode = "600"\n')
      expect(await started.listening).toBe(`unix:${socket}`)
      await watched.flush('marker')
      const onSocket = watched.events.filter((event) => event.name === 'continuum.sock')
      // One appearance, and no attribute change after it: no moment with another mode.
      expect(onSocket).toEqual([{ type: 'rename', name: 'continuum.sock' }])
      expect((await stat(socket)).mode & 0o777).toBe(0o600)
      // The private directory it was bound in is gone.
      expect((await readdir(directory)).sort()).toEqual(['continuum.sock', 'marker'])
      expect(await statusOver(socket, '/v1/models')).toBe(200)
      started.child.kill('SIGTERM')
      expect((await started.exited).code).toBe(0)
      await expect(lstat(socket)).rejects.toMatchObject({ code: 'ENOENT' })
    } finally {
      watched.close()
    }
  })

  it('replaces the socket file a crashed server left behind', async () => {
    const socket = join(folder, 'stale.sock')
    await staleSocket(socket)
    const started = await serveOn(socket, 'socket_mode = "660"\n')
    expect(await started.listening).toBe(`unix:${socket}`)
    expect((await stat(socket)).mode & 0o777).toBe(0o660)
    expect(await statusOver(socket, '/v1/models')).toBe(200)
    started.child.kill('SIGTERM')
    expect((await started.exited).code).toBe(0)
  })

  it("refuses a path where a server listens, and keeps that server's socket", async () => {
    const socket = join(folder, 'taken.sock')
    const other: Server = createServer((connection) => connection.end())
    await new Promise<void>((resolve) => other.listen(socket, resolve))
    try {
      const started = await serveOn(socket)
      const { code, stderr } = await started.exited
      expect(code).not.toBe(0)
      expect(stderr).toContain(`${socket} is in use by a running server`)
      // The name still leads to the other server.
      await new Promise<void>((resolve, reject) => {
        const connection = connect(socket)
        connection.once('error', reject).once('connect', () => {
          connection.destroy()
          resolve()
        })
      })
    } finally {
      await new Promise((resolve) => other.close(resolve))
    }
  })

  it('refuses a symlink planted at the path without following it', async () => {
    const victims = join(folder, 'victims')
    await mkdir(victims)
    const victim = join(victims, 'precious.txt')
    await writeFile(victim, 'precious')
    await chmod(victim, 0o644)
    const socket = join(folder, 'planted.sock')
    await symlink(victim, socket)
    const dangling = join(folder, 'dangling.sock')
    await symlink(join(victims, 'absent.sock'), dangling)

    for (const path of [socket, dangling]) {
      const started = await serveOn(path, 'socket_mode = "666"\n')
      const { code, stderr } = await started.exited
      expect(code).not.toBe(0)
      expect(stderr).toContain(`${path} exists and is not a socket`)
      expect((await lstat(path)).isSymbolicLink()).toBe(true)
    }
    expect((await stat(victim)).mode & 0o777).toBe(0o644)
    expect(await readFile(victim, 'utf8')).toBe('precious')
    expect(await readdir(victims)).toEqual(['precious.txt'])
  })
})
