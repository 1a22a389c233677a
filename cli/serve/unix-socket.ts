/**
 * Listening on a Unix socket that has its final mode from the moment it has its name. bind()
 * creates the socket file with the umask's mode, and a chmod after it leaves a window in which
 * another local user can connect; so the socket is bound in a fresh private directory (0700,
 * beside the target so that rename() stays on one file system), given its mode there, and renamed
 * into place: a bound socket keeps serving under its new name. What is at the path beforehand is
 * looked at without following links: nothing, or a socket nobody answers on (a crashed server's),
 * is replaced; a live server's socket, a symlink, a file or a directory is refused and left as it
 * is. rename() never follows a link either, so a swap after the check replaces only the swapped-in
 * entry. On close the socket is removed only while the path still names the one bound here.
 */
import { chmod, lstat, mkdtemp, rename, rm, unlink } from 'node:fs/promises'
import type { Server } from 'node:http'
import { connect } from 'node:net'
import { dirname, join, resolve } from 'node:path'
import { ContinuumError } from '../../src/index'

/** Longest socket path the kernel takes, in bytes (`sun_path` less its terminating NUL). */
const MAX_SOCKET_PATH = process.platform === 'linux' ? 107 : 103

/** A socket this server put in place. */
export interface UnixSocketBinding {
  /** Removes the socket file if the path still names the socket bound here; call after close. */
  release(): Promise<void>
}

function refused(message: string): ContinuumError {
  return new ContinuumError('CONTINUUM_INVALID_OPTIONS', `server.listen: ${message}`)
}

/** Whether a server accepts connections on the socket at `path`. */
function answers(path: string): Promise<boolean> {
  return new Promise((settle) => {
    const connection = connect(path)
    connection.once('connect', () => {
      connection.destroy()
      settle(true)
    })
    connection.once('error', (error: NodeJS.ErrnoException) => {
      // Refused: nobody listens. Anything else (EACCES: someone else's) cannot be called stale.
      settle(error.code !== 'ECONNREFUSED' && error.code !== 'ENOENT')
    })
  })
}

/** Refuses a path that names anything but nothing or a stale socket. */
async function checkReplaceable(path: string): Promise<void> {
  let found: Awaited<ReturnType<typeof lstat>>
  try {
    found = await lstat(path)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return
    throw error
  }
  if (!found.isSocket())
    throw refused(`${path} exists and is not a socket (a symlink, file or directory is never replaced)`)
  if (await answers(path)) throw refused(`${path} is in use by a running server`)
}

function listenOn(server: Server, path: string): Promise<void> {
  return new Promise((settle, reject) => {
    server.once('error', reject)
    server.listen(path, () => {
      server.off('error', reject)
      settle()
    })
  })
}

function close(server: Server): Promise<void> {
  return new Promise((settle) => server.close(() => settle()))
}

/**
 * Makes `server` listen on the Unix socket `path` with file mode `mode` (the umask's when
 * undefined); see the module comment.
 */
export async function listenOnUnixSocket(
  server: Server,
  path: string,
  mode: number | undefined,
): Promise<UnixSocketBinding> {
  const target = resolve(path)
  await checkReplaceable(target)
  const privateFolder = await mkdtemp(join(dirname(target), '.sock-'))
  const bound = join(privateFolder, 's')
  try {
    if (Buffer.byteLength(bound) > MAX_SOCKET_PATH)
      throw refused(
        `${bound}, where the socket is bound before it is renamed, is over ${MAX_SOCKET_PATH} bytes`,
      )
    await listenOn(server, bound)
    try {
      // No one else can enter the private folder, so the path cannot be swapped for a link here.
      if (mode !== undefined) await chmod(bound, mode)
      const identity = await lstat(bound)
      await rename(bound, target)
      return {
        async release() {
          const now = await lstat(target).catch(() => undefined)
          if (now !== undefined && now.ino === identity.ino && now.dev === identity.dev)
            await unlink(target).catch(() => undefined)
        },
      }
    } catch (error) {
      await close(server)
      throw error
    }
  } finally {
    await rm(privateFolder, { recursive: true, force: true })
  }
}
