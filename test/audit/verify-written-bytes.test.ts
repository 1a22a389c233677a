/**
 * The verifier hashes the record JSON.parse makes of a line, and JSON.parse keeps the last of
 * duplicate members, so a line could carry members of the attacker's choosing in front of the
 * signed ones and still verify. A reader that keeps the first member (a streaming parser, a
 * grep, a person) then sees an outcome the key holder never signed. Every line the writer makes is
 * the canonical JSON of its record, so a line that is anything else was edited.
 */
import { verifyAuditLog } from 'continuum-proxy/audit'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { temporaryFolder, writeLines, writeLog } from './helpers'

describe('verifyAuditLog on lines that are not the bytes written', () => {
  let folder: Awaited<ReturnType<typeof temporaryFolder>>
  beforeEach(async () => {
    folder = await temporaryFolder()
  })
  afterEach(() => folder.remove())

  it('flags a signed record with a duplicate member put in front of the signed one', async () => {
    const { keys, path, lines } = await writeLog(folder.path, 6)
    const signed = JSON.parse(lines[3]!)
    expect(signed.outcome).toEqual({ status: 'success', httpStatus: 200 })
    const forged = `{"outcome":{"status":"denied","httpStatus":403},"who":{"subject":"intruder"},${lines[3]!.slice(1)}`
    // What a first-member-wins reader is shown is the attacker's, not what was signed.
    expect(firstMember(forged, 'outcome')).toBe('{"status":"denied","httpStatus":403}')
    await writeLines(path, [...lines.slice(0, 3), forged, ...lines.slice(4)])
    const result = await verifyAuditLog(path, keys.publicKeyPem)
    expect(result).toMatchObject({ ok: false, records: 3, lastSeq: 2 })
    expect(result.firstBad).toMatchObject({ line: 4, seq: 3, reason: 'edited' })
    expect(result.firstBad?.message).not.toContain('intruder')
  })

  it('flags spacing and escapes changed in a line that still parses to the signed record', async () => {
    const { keys, lines } = await writeLog(folder.path, 4)
    const spaced = lines[1]!.replace('"v":1', '"v": 1')
    const escaped = lines[2]!.replace('"user-42"', '"\\u0075ser-42"')
    expect(JSON.parse(spaced)).toEqual(JSON.parse(lines[1]!))
    expect(JSON.parse(escaped)).toEqual(JSON.parse(lines[2]!))
    const first = await verifyAuditLog([lines[0]!, spaced, ...lines.slice(2)], keys.publicKeyPem)
    expect(first.firstBad).toMatchObject({ line: 2, seq: 1, reason: 'edited' })
    const second = await verifyAuditLog([...lines.slice(0, 2), escaped, lines[3]!], keys.publicKeyPem)
    expect(second.firstBad).toMatchObject({ line: 3, seq: 2, reason: 'edited' })
  })

  it('still accepts the written lines with CRLF line ends, from a file and as given lines', async () => {
    const { keys, path, lines } = await writeLog(folder.path, 5)
    const crlf = lines.map((line) => `${line}\r`)
    await writeLines(path, crlf)
    expect(await verifyAuditLog(path, keys.publicKeyPem)).toMatchObject({ ok: true, records: 5 })
    expect(await verifyAuditLog(crlf, keys.publicKeyPem)).toMatchObject({ ok: true, records: 5 })
  })
})

/** The raw text of the first top-level `name` member whose value is an object, as a naive reader takes it. */
function firstMember(line: string, name: string): string {
  const start = line.indexOf(`"${name}":`) + name.length + 3
  return line.slice(start, line.indexOf('}', start) + 1)
}
