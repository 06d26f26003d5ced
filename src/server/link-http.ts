/**
 * What the HTTPS listener answers besides the WebSocket upgrade: the browser app
 * (web-app.ts), the CA certificate (/ca.pem), /healthz and /readyz (ops-http.ts),
 * and links, without an account
 * (docs/PROTOCOL.md 4.9):
 *   GET /l/<id>       the app, which opens the link (or, without the app, how to)
 *   GET /l/<id>/info  the link's info document (CBOR): CA, owner certificate,
 *                     manifest and signature, the sealed key; not counted
 *   GET /l/<id>/blob  the envelope, counted against the link's downloads
 * Refusals are JSON {code, message} with the stable code. The secret never comes
 * here: it lives in the URL's fragment, which browsers and sisp never send.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { encodeDeterministic } from '../protocol/cbor.js';
import { ERROR_CODES, isSispError, type ErrorCode } from '../protocol/errors.js';
import { fromBase64Url, LINK_ID_LENGTH } from '../protocol/link.js';
import { MAX_CHUNK_DATA } from '../protocol/messages.js';
import type { ServerContext } from './context.js';
import type { LinkRecord, LinkState } from './store/types.js';
import { serveOps } from './ops-http.js';
import type { WebApp } from './web-app.js';

/** Link downloads streaming at once, server-wide: anonymous, so bounded apart from sessions. */
const MAX_LINK_STREAMS = 32;
/** A link download that takes nothing for this long is ended (it holds a stream slot). */
const STALL_MS = 60_000;

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
};

function refuse(response: ServerResponse, status: number, code: ErrorCode, message?: string): void {
  response
    .writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json' })
    .end(`${JSON.stringify({ code, message: message ?? ERROR_CODES[code] })}\n`);
}

const CLOSED: Record<Exclude<LinkState, 'open'>, [number, ErrorCode]> = {
  missing: [404, 'E_NOT_FOUND'],
  revoked: [410, 'E_REVOKED'],
  expired: [410, 'E_EXPIRED'],
  used_up: [410, 'E_USED_UP'],
};

function stateOf(link: LinkRecord | undefined, now: number): LinkState {
  if (link === undefined) return 'missing';
  if (link.revoked) return 'revoked';
  if (link.expires <= now) return 'expired';
  if (link.maxDownloads !== undefined && link.downloads >= link.maxDownloads) return 'used_up';
  return 'open';
}

async function info(context: ServerContext, link: LinkRecord, response: ServerResponse) {
  const image = await context.store.getImage(link.image);
  const owner = image === undefined ? undefined : await context.store.getUser(image.owner);
  if (image === undefined || owner === undefined) {
    refuse(response, 404, 'E_NOT_FOUND');
    return;
  }
  const body = encodeDeterministic({
    v: 1,
    ca: context.pki.ca.certificate,
    owner: image.owner,
    certificate: owner.certificate,
    manifest: image.manifest,
    signature: image.signature,
    key: link.key,
    expires: link.expires,
    downloads: link.downloads,
    ...(link.maxDownloads === undefined ? {} : { maxDownloads: link.maxDownloads }),
    ...(link.passphrase === undefined ? {} : { passphrase: link.passphrase }),
  });
  response.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'application/cbor' }).end(body);
}

/** Writes the envelope with backpressure, within the server-wide outgoing budget. */
async function blob(context: ServerContext, link: LinkRecord, response: ServerResponse) {
  const image = await context.store.getImage(link.image);
  if (image === undefined) {
    refuse(response, 404, 'E_NOT_FOUND');
    return;
  }
  const reader = await context.blobs.open(image.blob);
  const gone = { aborted: false };
  response.once('close', () => {
    gone.aborted = true;
  });
  try {
    response.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': 'application/octet-stream',
      'content-length': String(image.ctLength),
    });
    for (let sent = 0; sent < image.ctLength && !gone.aborted;) {
      const amount = Math.min(MAX_CHUNK_DATA, image.ctLength - sent);
      if (!(await context.outgoing.take(amount, gone))) break;
      const piece = new Uint8Array(amount);
      const read = await reader.read(piece, sent).finally(() => {
        context.outgoing.give(amount);
      });
      if (read !== amount) throw new Error('stored image is shorter than recorded');
      sent += amount;
      // Backpressure: wait for the socket to take it (or for the reader to go).
      if (!response.write(piece))
        await new Promise((resolve) => response.once('drain', resolve).once('close', resolve));
    }
    response.end();
  } finally {
    await reader.close();
  }
}

async function route(
  context: ServerContext,
  app: WebApp | undefined,
  streams: { count: number },
  request: IncomingMessage,
  response: ServerResponse,
) {
  const path = (request.url ?? '/').split('?')[0] ?? '/';
  if (request.method === 'GET' && path === '/ca.pem') {
    response
      .writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'application/x-pem-file' })
      .end(context.pki.caPem);
    return;
  }
  if (request.method === 'GET' && serveOps(context, path, response)) return;
  const match = /^\/l\/([A-Za-z0-9_-]{1,64})(\/info|\/blob)?$/.exec(path);
  // The app's own pages and files, link pages included (the app opens links).
  if (request.method === 'GET' && app?.serve(path, response) === true) return;
  const id = match?.[1] === undefined ? undefined : fromBase64Url(match[1], LINK_ID_LENGTH);
  if (request.method === 'GET' && (match === null || id === undefined)) {
    response
      .writeHead(404, { ...SECURITY_HEADERS, 'content-type': 'text/plain' })
      .end('not found\n');
    return;
  }
  if (request.method !== 'GET' || match === null || id === undefined) {
    response
      .writeHead(426, { ...SECURITY_HEADERS, 'content-type': 'text/plain' })
      .end('sisp speaks WebSocket (SISP/2) here; links are https://HOST:PORT/l/<id>#<secret>\n');
    return;
  }
  const part = match[2];
  if (part === undefined) {
    response
      .writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8' })
      .end(
        'This is a sisp link to an encrypted image. Open the whole link, with the part after #,\n' +
          "with: sisp download 'LINK'\n",
      );
    return;
  }
  if (part === '/info') await openInfo(context, id, response);
  else await openBlob(context, streams, id, response);
}

/** Refuses a link that is not open, with the code that says why. */
function refuseClosed(response: ServerResponse, state: LinkState): void {
  refuse(response, ...CLOSED[state === 'open' ? 'missing' : state]);
}

async function openInfo(context: ServerContext, id: Uint8Array, response: ServerResponse) {
  const link = await context.store.getLink(id);
  const state = stateOf(link, Date.now());
  if (state !== 'open' || link === undefined) refuseClosed(response, state);
  else await info(context, link, response);
}

async function openBlob(
  context: ServerContext,
  streams: { count: number },
  id: Uint8Array,
  response: ServerResponse,
) {
  if (streams.count >= MAX_LINK_STREAMS) {
    refuse(response, 503, 'E_RATE_LIMITED', 'too many link downloads at once; try again soon');
    return;
  }
  // Counted before the first await, so a burst cannot overshoot the limit.
  streams.count++;
  try {
    const state = await context.store.consumeLink(id, Date.now());
    const link = await context.store.getLink(id);
    if (state !== 'open' || link === undefined) {
      refuseClosed(response, state);
      return;
    }
    response.setTimeout(STALL_MS, () => {
      response.destroy();
    });
    await blob(context, link, response);
  } finally {
    streams.count--;
  }
}

export function linkRequestHandler(context: ServerContext, app: WebApp | undefined) {
  const streams = { count: 0 };
  return (request: IncomingMessage, response: ServerResponse): void => {
    route(context, app, streams, request, response).catch((error: unknown) => {
      context.log.warn(
        { event: 'link', code: isSispError(error) ? error.code : 'E_INTERNAL', err: error },
        'link request failed',
      );
      if (!response.headersSent) refuse(response, 500, 'E_INTERNAL');
      else response.destroy();
    });
  };
}
