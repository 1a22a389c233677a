/**
 * Key tooling: `keygen field` prints a usable 32-byte key and id; `keygen agreement` writes an
 * X25519 private key file (mode 0600, never overwritten) and prints its fingerprint; `fingerprint`
 * gives the same fingerprint offline from that file and online from the running server that uses
 * it (Express on a real socket), and exits 1 when a server's stated fingerprint is not its key's.
 * A hybrid server's fingerprint covers its ML-KEM key too, never the X25519 key's hash alone.
 */

import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fingerprint, generateAgreementKeyPair, HYBRID_AGREEMENT, Keyring } from 'continuum-proxy'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fingerprintCommand } from '../../cli/fingerprint-command'
import { runCli } from '../../cli/run-cli'
import { startExpressProxy } from '../adapters/harness'
import { jsonReply } from '../kit/replies'
import { FakeUpstream } from '../kit/server'

let folder: string

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'continuum-keys-'))
})

afterAll(async () => {
  await rm(folder, { recursive: true, force: true })
})

function capture() {
  const out: string[] = []
  const err: string[] = []
  return {
    out,
    err,
    io: { stdout: (text: string) => out.push(text), stderr: (text: string) => err.push(text) },
  }
}

describe('continuum-proxy keygen and fingerprint', () => {
  it('prints a field key of 32 bytes with an id, as environment lines', async () => {
    const run = capture()
    expect(await runCli(['keygen', 'field', '--id', 'k2026'], run.io)).toBe(0)
    const [idLine, keyLine] = run.out.join('\n').split('\n')
    expect(idLine).toBe('CONTINUUM_KEY_ID=k2026')
    expect(Buffer.from(keyLine!.slice('CONTINUUM_KEY='.length), 'base64url')).toHaveLength(32)
    expect(await runCli(['keygen', 'field', '--id', 'bad id!'], capture().io)).toBe(2)
  })

  it('writes an agreement key whose fingerprint the server publishes and the CLI reads back', async () => {
    const path = join(folder, 'agreement.pem')
    const made = capture()
    expect(await runCli(['keygen', 'agreement', '--out', path], made.io)).toBe(0)
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    expect(await runCli(['keygen', 'agreement', '--out', path], capture().io)).toBe(2)
    const printed = /fingerprint: (sha256:[0-9a-f]{64})/.exec(made.out.join('\n'))?.[1]
    expect(printed).toBeDefined()
    const offline = capture()
    expect(await runCli(['fingerprint', path], offline.io)).toBe(0)
    expect(offline.out.join('\n')).toContain(printed!)
    const proxy = await startExpressProxy({
      upstream: 'http://127.0.0.1:9',
      keys: { agreementKeys: [{ id: 'a2026', privateKey: await readFile(path, 'utf8') }] },
    })
    try {
      const online = capture()
      expect(await runCli(['fingerprint', proxy.url], online.io)).toBe(0)
      expect(online.out.join('\n')).toBe(`fingerprint: ${printed}\nkey id: a2026`)
    } finally {
      await proxy.close()
    }
  })

  it('reads the one fingerprint over both keys and the classical flag of a hybrid server, which its clients pin', async () => {
    const seed = randomBytes(32).toString('base64url')
    const printed: string[] = []
    for (const classicalAllowed of [false, true]) {
      const keyring = await Keyring.create({
        agreementKeys: [
          { id: 'pq-1', privateKey: seed, algorithm: HYBRID_AGREEMENT, classical: classicalAllowed },
        ],
      })
      const published = keyring.published()!
      // The X25519 key's hash alone is what a relay's classical document with that key would carry.
      const classical = fingerprint(Buffer.from(published.publicKey, 'base64url'))
      const proxy = await startExpressProxy({ upstream: 'http://127.0.0.1:9', keys: keyring })
      try {
        const online = capture()
        expect(await runCli(['fingerprint', proxy.url], online.io)).toBe(0)
        expect(online.out.join('\n')).toBe(`fingerprint: ${published.fingerprint}\nkey id: pq-1`)
        expect(online.out.join('\n')).not.toContain(classical)
        expect(online.err).toEqual([])
        printed.push(published.fingerprint)
      } finally {
        await proxy.close()
      }
    }
    // The same keys with and without the classical permission: two pins.
    expect(new Set(printed).size).toBe(2)
  })

  it('refuses a hybrid document without a valid ML-KEM key', async () => {
    const real = generateAgreementKeyPair()
    const document = {
      keyId: 'pq-1',
      algorithm: HYBRID_AGREEMENT,
      publicKey: real.publicKeyBytes.toString('base64url'),
      mlKemPublicKey: randomBytes(16).toString('base64url'),
      fingerprint: fingerprint(real.publicKeyBytes),
      classical: true,
    }
    const server = await FakeUpstream.start(() => jsonReply(document))
    try {
      const run = capture()
      await expect(fingerprintCommand().run([server.url], run.io)).rejects.toThrow(/ML-KEM-768 key/)
      expect(run.out).toEqual([])
    } finally {
      await server.close()
    }
  })

  it('exits 1 when a server states a fingerprint that is not its key’s', async () => {
    const real = generateAgreementKeyPair()
    const server = await FakeUpstream.start(() =>
      jsonReply({
        keyId: 'x',
        algorithm: 'X25519-HKDF-SHA256',
        publicKey: real.publicKeyBytes.toString('base64url'),
        fingerprint: `sha256:${'0'.repeat(64)}`,
      }),
    )
    try {
      const run = capture()
      expect(await fingerprintCommand().run([server.url], run.io)).toBe(1)
      expect(run.err.join('\n')).toContain('do not pin it')
    } finally {
      await server.close()
    }
  })
})
