/**
 * A fake Amazon Bedrock: Converse, ConverseStream (binary `application/vnd.amazon.eventstream`
 * messages encoded with smithy's EventStreamCodec), InvokeModel for Titan text embeddings and the
 * control plane's ListFoundationModels, answering from test/fixtures/transcripts/bedrock (shapes
 * from the Bedrock API reference). Before answering it verifies the SigV4 signature the way AWS
 * does: it re-signs the received method, path, query, signed headers and body with the known
 * credentials and compares the Authorization header, and checks the payload hash against the body.
 */
import { createHash } from 'node:crypto'
import { Sha256 } from '@aws-crypto/sha256-js'
import { EventStreamCodec } from '@smithy/eventstream-codec'
import { SignatureV4 } from '@smithy/signature-v4'
import { fromUtf8, toUtf8 } from '@smithy/util-utf8'
import { jsonReply, transcript } from './replies'
import { FakeUpstream, type RecordedRequest, type Reply } from './server'

/** The credentials the fake expects. */
export const FAKE_AWS_CREDENTIALS = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  sessionToken: 'FwoGZXIvYXdzEXAMPLESESSIONTOKEN',
}
export const FAKE_AWS_REGION = 'us-east-1'

/** One transcript event: an event or exception message. */
export interface TranscriptEvent {
  messageType: 'event' | 'exception'
  type: string
  payload: unknown
}

const codec = new EventStreamCodec(toUtf8, fromUtf8)

/** Encodes transcript events as binary event-stream messages. */
export function encodeEvents(events: TranscriptEvent[]): Uint8Array[] {
  return events.map((event) => {
    const typeHeader = event.messageType === 'exception' ? ':exception-type' : ':event-type'
    return codec.encode({
      headers: {
        ':message-type': { type: 'string', value: event.messageType },
        [typeHeader]: { type: 'string', value: event.type },
        ':content-type': { type: 'string', value: 'application/json' },
      },
      body: fromUtf8(JSON.stringify(event.payload)),
    })
  })
}

/** Reads a stream transcript. */
export function streamTranscript(name: string): TranscriptEvent[] {
  return JSON.parse(transcript('bedrock', name)) as TranscriptEvent[]
}

/** The response headers of a ConverseStream answer. */
export const EVENT_STREAM_HEADERS = {
  'content-type': 'application/vnd.amazon.eventstream',
  'x-amzn-requestid': 'req-stream-1',
}

function awsError(status: number, type: string, message: string): Reply {
  return jsonReply({ message }, status, {
    'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
  })
}

/** Whether the request carries a valid SigV4 signature for the fake's credentials. */
export async function verifySignature(request: RecordedRequest, baseURL: string): Promise<boolean> {
  const authorization = request.headers.authorization ?? ''
  const match =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=[0-9a-f]{64}$/.exec(
      authorization,
    )
  if (match === null) return false
  const [, accessKeyId, , region, service, signedHeaderList] = match
  if (accessKeyId !== FAKE_AWS_CREDENTIALS.accessKeyId || region !== FAKE_AWS_REGION || service !== 'bedrock')
    return false
  if (request.headers['x-amz-security-token'] !== FAKE_AWS_CREDENTIALS.sessionToken) return false
  const payloadHash = createHash('sha256').update(request.bytes).digest('hex')
  if (request.headers['x-amz-content-sha256'] !== payloadHash) return false
  const date = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(request.headers['x-amz-date'] ?? '')
  if (date === null) return false
  const signingDate = new Date(Date.UTC(+date[1]!, +date[2]! - 1, +date[3]!, +date[4]!, +date[5]!, +date[6]!))
  const headers: Record<string, string> = {}
  for (const name of signedHeaderList!.split(';')) {
    const value = request.headers[name]
    if (value === undefined) return false
    headers[name] = value
  }
  const url = new URL(request.url, baseURL)
  const query: Record<string, string> = {}
  for (const [name, value] of url.searchParams) query[name] = value
  const signer = new SignatureV4({
    service: 'bedrock',
    region: FAKE_AWS_REGION,
    credentials: FAKE_AWS_CREDENTIALS,
    sha256: Sha256,
  })
  const signed = await signer.sign(
    {
      method: request.method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: Number(url.port),
      // The raw path as received: SigV4 signs the encoded form.
      path: request.url.split('?')[0]!,
      query,
      headers,
      body: request.body,
    },
    { signingDate },
  )
  return signed.headers.authorization === authorization
}

/** Starts the fake; `close()` it after the test. */
export async function startBedrockServer(): Promise<FakeUpstream> {
  let baseURL = ''
  const fake = await FakeUpstream.start(async (request) => {
    if (!(await verifySignature(request, baseURL))) {
      return {
        kind: 'body',
        status: 403,
        headers: { 'content-type': 'application/json', 'x-amzn-errortype': 'InvalidSignatureException' },
        body: transcript('bedrock', 'invalid-signature.json'),
      }
    }
    const path = request.url.split('?')[0]!
    if (request.method === 'GET' && path === '/foundation-models') {
      return {
        kind: 'body',
        headers: { 'content-type': 'application/json' },
        body: transcript('bedrock', 'list-foundation-models.json'),
      }
    }
    const route = /^\/model\/([^/]+)\/(converse|converse-stream|invoke)$/.exec(path)
    if (request.method !== 'POST' || route === null)
      return awsError(404, 'UnknownOperationException', 'Unknown operation')
    const model = decodeURIComponent(route[1]!)
    const body = request.json()
    if (route[2] === 'invoke') {
      if (model !== 'amazon.titan-embed-text-v2:0')
        return awsError(404, 'ResourceNotFoundException', 'Model not found')
      if (typeof body.inputText !== 'string')
        return awsError(400, 'ValidationException', 'Malformed input request')
      const answer = JSON.parse(transcript('bedrock', 'titan-embed.json'))
      // The first component tells the test which input the vector belongs to.
      answer.embedding[0] = body.inputText.length
      return jsonReply(answer, 200, { 'x-amzn-requestid': 'req-embed' })
    }
    if (!Array.isArray(body.messages) || body.messages.length === 0 || body.messages[0].role !== 'user') {
      return awsError(400, 'ValidationException', 'A conversation must start with a user message.')
    }
    const tools = body.toolConfig !== undefined
    if (route[2] === 'converse-stream') {
      const events = streamTranscript(tools ? 'converse-stream-tools.json' : 'converse-stream.json')
      return { kind: 'chunks', headers: EVENT_STREAM_HEADERS, chunks: encodeEvents(events) }
    }
    return {
      kind: 'body',
      headers: { 'content-type': 'application/json', 'x-amzn-requestid': 'req-converse-1' },
      body: transcript('bedrock', tools ? 'converse-tools.json' : 'converse.json'),
    }
  })
  baseURL = fake.url
  return fake
}
