/**
 * The Node LinkFetcher: plain HTTPS to the link's server. The info document may be
 * fetched before the server's CA is known (a person without an account has none),
 * because the link's secret checks it: the sealed key binds the CA's fingerprint.
 * The envelope is then fetched over a connection that trusts that CA (or an
 * operator's certificate the system trusts, as for the WebSocket: tls-trust.ts).
 */
import { get, type RequestOptions } from 'node:https';
import type { IncomingMessage } from 'node:http';
import { toPem } from '../crypto/pem.js';
import type { LinkFetcher } from '../core/links.js';
import { listenerTrust } from './tls-trust.js';
import { isErrorCode, isSispError, sispError, type SispError } from '../protocol/errors.js';
import { MAX_LINK_INFO, toBase64Url } from '../protocol/link.js';

const TIMEOUT_MS = 30_000;

/** A failed request in words: a certificate problem, or a server out of reach. */
function failure(cause: unknown, host: string): SispError {
  if (isSispError(cause)) return cause;
  const code = cause instanceof Error && 'code' in cause ? String(cause.code) : '';
  if (/CERT|SIGNATURE|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/.test(code))
    return sispError('E_CERTIFICATE', `${host} is not vouched for by the link's CA`, { cause });
  return sispError('E_UNAVAILABLE', `cannot reach ${host}`, { cause });
}

function request(url: string, options: RequestOptions): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = get(url, { ...options, timeout: TIMEOUT_MS }, resolve);
    req.once('timeout', () =>
      req.destroy(sispError('E_TIMEOUT', `${new URL(url).host} took too long`)),
    );
    req.once('error', (cause) => {
      reject(failure(cause, new URL(url).host));
    });
  });
}

async function readAll(response: IncomingMessage, max: number): Promise<Uint8Array> {
  const parts: Buffer[] = [];
  let length = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    length += chunk.length;
    if (length > max) {
      response.destroy();
      throw sispError('E_TOO_LARGE', 'the server answered more than a link info holds');
    }
    parts.push(chunk);
  }
  return new Uint8Array(Buffer.concat(parts));
}

/** A refusal from the server, as the stable code it sent (never trusted beyond that). */
async function refusal(response: IncomingMessage): Promise<SispError> {
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(await readAll(response, 2048)).toString('utf8'));
  } catch {
    body = undefined;
  }
  const { code, message } = (body ?? {}) as { code?: unknown; message?: unknown };
  if (isErrorCode(code))
    return sispError(code, typeof message === 'string' ? message.slice(0, 300) : undefined);
  return sispError('E_UNAVAILABLE', `the server answered ${response.statusCode ?? 0}`);
}

const path = (origin: string, id: Uint8Array, part: string): string =>
  `${origin}/l/${toBase64Url(id)}/${part}`;

export const httpsLinkFetcher: LinkFetcher = {
  async info(origin, id) {
    // Unverified TLS on purpose: what comes back is checked by the link's secret.
    const response = await request(path(origin, id, 'info'), { rejectUnauthorized: false });
    if (response.statusCode !== 200) throw await refusal(response);
    return readAll(response, MAX_LINK_INFO);
  },
  async *blob(origin, id, caDer) {
    const response = await request(path(origin, id, 'blob'), { ca: listenerTrust(toPem(caDer)) });
    if (response.statusCode !== 200) throw await refusal(response);
    for await (const chunk of response as AsyncIterable<Buffer>)
      yield new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length);
  },
};
