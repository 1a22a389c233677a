/**
 * Reloads of a key schedule apply in the order they were asked for. The attack is an old read
 * landing last: a reload that read the key source before a new key was scheduled, slow to
 * answer (a stalled mount, a slow Redis), applied after a later reload that loaded the new key,
 * would put the old schedule back and retire the new key at once, for good. Here a key source
 * whose reads the test answers by hand stands in for the slow source, under a KeyringReloader
 * serving a real Express app: the older read answers only after the newer reload was asked for,
 * and a request under the key added in between must still decrypt. A burst of reloads during a
 * slow read shares one read after it rather than piling up reads of its own.
 */
import { randomBytes } from 'node:crypto'
import { KeyringReloader, type KeySchedule, type KeySource } from 'continuum-proxy'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { frameworks, type RunningApp } from '../conformance/frameworks'
import { encryptRequest, SECRET, secretChat } from '../conformance/support'
import { startOpenAIUpstream } from '../kit/openai-echo'
import type { FakeUpstream } from '../kit/server'

const CHAT = '/v1/chat/completions'
const express = frameworks.find((harness) => harness.name === 'express')!
const material = { k1: randomBytes(32), k2: randomBytes(32) }
type KeyName = keyof typeof material

/** k1 is primary; k2 activates in ten minutes, and is served from the moment it is loaded. */
function schedule(...ids: KeyName[]): KeySchedule {
  const now = Date.now()
  const activations = { k1: now - 60_000, k2: now + 600_000 }
  return {
    graceMs: 60_000,
    keys: ids.map((id) => ({ kind: 'shared' as const, id, key: material[id], activatesAt: activations[id] })),
  }
}

/**
 * A key source whose reads the test controls. Each read takes the schedule as it stands when the
 * read begins, as reading a file does; after `hold()` the next read answers only on `release()`
 * (or fails on `fail()`), the others at once. `log` lists when each read began and ended.
 */
function heldSource(initial: KeySchedule) {
  let current = initial
  let holding = false
  let held: { answer: () => void; refuse: () => void } | undefined
  const log: string[] = []
  const waiters = new Map<number, () => void>()
  let reads = 0
  const source: KeySource = {
    load() {
      const number = ++reads
      const read = current
      log.push(`read ${number} begins`)
      waiters.get(number)?.()
      const ended = (): KeySchedule => {
        log.push(`read ${number} ends`)
        return read
      }
      if (!holding) return Promise.resolve(ended())
      holding = false
      return new Promise((resolve, reject) => {
        held = {
          answer: () => resolve(ended()),
          refuse: () => {
            log.push(`read ${number} fails`)
            reject(new Error('the key source is unreachable'))
          },
        }
      })
    },
  }
  return {
    source,
    log,
    reads: () => reads,
    publish(next: KeySchedule) {
      current = next
    },
    hold() {
      holding = true
    },
    release() {
      held!.answer()
    },
    fail() {
      held!.refuse()
    },
    /** Resolves once read `number` has begun. */
    begun(number: number): Promise<void> {
      if (reads >= number) return Promise.resolve()
      return new Promise((resolve) => waiters.set(number, resolve))
    },
  }
}

/** One event-loop turn: every reload that can go on without the held read has gone on. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

let upstream: FakeUpstream
const running: { app: RunningApp; reloader: KeyringReloader }[] = []

beforeAll(async () => {
  upstream = await startOpenAIUpstream()
})

afterEach(async () => {
  for (const { reloader } of running) reloader.close()
  await Promise.all(running.splice(0).map(({ app }) => app.close()))
})

afterAll(async () => {
  await upstream.close()
})

async function serve(source: KeySource): Promise<{ app: RunningApp; reloader: KeyringReloader }> {
  const reloader = await KeyringReloader.start({ source, intervalMs: 3_600_000 })
  const app = await express.start({ upstream: upstream.url, keys: reloader.keyring })
  running.push({ app, reloader })
  return { app, reloader }
}

/** The status (and error code) of a chat request sealed under `keyId`. */
async function answer(app: RunningApp, keyId: KeyName): Promise<{ status: number; code?: string }> {
  const built = encryptRequest(CHAT, secretChat(), { keyId, key: material[keyId] })
  const response = await fetch(app.url + CHAT, {
    method: 'POST',
    headers: built.headers,
    body: JSON.stringify(built.body),
  })
  const text = await response.text()
  if (response.status === 200) return { status: 200 }
  return { status: response.status, code: (JSON.parse(text) as { error: { code: string } }).error.code }
}

describe('KeyringReloader under overlapping reloads', () => {
  it('never applies a slow older read after a newer one, so the key added in between keeps decrypting', async () => {
    const keys = heldSource(schedule('k1'))
    const { app, reloader } = await serve(keys.source)
    // Read 1 was start's. Read 2 is slow and sees the old schedule, without k2.
    keys.hold()
    const older = reloader.reload()
    await keys.begun(2)
    keys.publish(schedule('k1', 'k2'))
    const newer = reloader.reload()
    await nextTurn()
    keys.release()
    const changes = await Promise.all([older, newer])

    expect(await answer(app, 'k2')).toEqual({ status: 200 })
    expect(JSON.parse(upstream.requests.at(-1)!.body).messages[1].content).toBe(SECRET)
    expect(await answer(app, 'k1')).toEqual({ status: 200 })
    expect(changes).toEqual([
      { added: [], removed: [] },
      { added: ['k2'], removed: [] },
    ])
    // The newer reload read only after the older one ended.
    expect(keys.log.slice(2)).toEqual(['read 2 begins', 'read 2 ends', 'read 3 begins', 'read 3 ends'])
  })

  it('lets a burst of reloads during a slow read share one read after it', async () => {
    const keys = heldSource(schedule('k1'))
    const { app, reloader } = await serve(keys.source)
    keys.hold()
    const slow = reloader.reload()
    await keys.begun(2)
    keys.publish(schedule('k1', 'k2'))
    const burst = Array.from({ length: 5 }, () => reloader.reload())
    await nextTurn()
    keys.release()
    await slow
    const changes = await Promise.all(burst)

    expect(await answer(app, 'k2')).toEqual({ status: 200 })
    expect(changes).toEqual(Array.from({ length: 5 }, () => ({ added: ['k2'], removed: [] })))
    // start's read, the slow one, and one for the whole burst.
    expect(keys.reads()).toBe(3)
  })

  it('goes on to the reloads waiting behind a read that failed', async () => {
    const keys = heldSource(schedule('k1'))
    const { app, reloader } = await serve(keys.source)
    keys.hold()
    const failing = reloader.reload().catch((error: Error) => error)
    await keys.begun(2)
    keys.publish(schedule('k1', 'k2'))
    const after = reloader.reload()
    await nextTurn()
    keys.fail()

    expect(await failing).toMatchObject({ message: 'the key source is unreachable' })
    expect(await after).toEqual({ added: ['k2'], removed: [] })
    expect(await answer(app, 'k2')).toEqual({ status: 200 })
    expect(keys.log.slice(2)).toEqual(['read 2 begins', 'read 2 fails', 'read 3 begins', 'read 3 ends'])
  })
})
