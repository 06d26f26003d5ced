/**
 * The Node Connector: TLS 1.3 to the server (certified by the pinned sisp CA, or an
 * operator's certificate the system trusts: tls-trust.ts), one `ws` WebSocket
 * carrying SISP/2 frames.
 */
import { isIP } from 'node:net';
import {
  connect as tlsConnect,
  createSecureContext,
  type ConnectionOptions,
  type SecureContext,
  type TLSSocket,
} from 'node:tls';
import WebSocket from 'ws';
import { sispError, type SispError } from '../protocol/errors.js';
import type { Connector, Transport } from '../core/transport.js';
import { listenerTrust } from './tls-trust.js';

const CONNECT_TIMEOUT_MS = 15_000;

function describeConnectError(url: string, error: Error): SispError {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  if (
    ['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'EAI_AGAIN'].includes(
      code,
    )
  ) {
    return sispError('E_UNAVAILABLE', `cannot reach the server at ${url} (is it running?)`);
  }
  // Node's certificate failures carry OpenSSL's verify codes (UNABLE_TO_VERIFY_LEAF_SIGNATURE,
  // SELF_SIGNED_CERT_IN_CHAIN, CERT_HAS_EXPIRED, ERR_TLS_CERT_ALTNAME_INVALID, ...).
  if (CERTIFICATE_FAILURE.test(code)) {
    return sispError(
      'E_CERTIFICATE',
      `certificate mismatch: the server at ${url} is not certified by the pinned CA`,
    );
  }
  // Anything else (a handshake that timed out, a closed connection).
  return sispError('E_UNAVAILABLE', `cannot connect to ${url}`);
}

function wrap(ws: WebSocket): Transport {
  return {
    send(frame) {
      return new Promise((resolve, reject) => {
        ws.send(frame, { binary: true }, (error) => {
          if (error instanceof Error) reject(error);
          else resolve();
        });
      });
    },
    get bufferedAmount() {
      return ws.bufferedAmount;
    },
    close(code) {
      ws.close(code);
    },
  };
}

const CERTIFICATE_FAILURE = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS/;

// One TLS context per trust list for the process: building one parses every CA
// certificate in it, which a client reconnecting (or a process with many sessions)
// would otherwise pay on every connection.
const contexts = new Map<string, SecureContext>();

function contextFor(ca: readonly string[]): SecureContext {
  const key = ca.join('\n');
  let context = contexts.get(key);
  if (context === undefined) {
    context = createSecureContext({ ca: [...ca], minVersion: 'TLSv1.3' });
    if (contexts.size >= 16) contexts.clear();
    contexts.set(key, context);
  }
  return context;
}

/**
 * The newest TLS session ticket per server address and trust list: a client that
 * connects again in the same process (`sisp watch` and the prompt reconnecting, many
 * clients in one process) resumes its TLS session instead of a full handshake, and
 * skips the certificate checks the first handshake made (Node does too). TLS 1.3
 * resumption still makes a fresh (EC)DHE exchange. Kept in memory only: a ticket is a
 * secret while it is valid, and it lives minutes.
 */
const sessions = new Map<string, Buffer>();
const MAX_SESSIONS = 32;

function rememberSession(key: string, session: Buffer): void {
  sessions.delete(key);
  if (sessions.size >= MAX_SESSIONS) {
    const oldest = sessions.keys().next();
    if (oldest.done !== true) sessions.delete(oldest.value);
  }
  sessions.set(key, session);
}

/** ws's own TLS connection, with the session to resume and a hand on the next ticket. */
function resumingConnection(key: string) {
  return (request: ConnectionOptions): TLSSocket => {
    const servername = request.servername ?? (isIP(request.host ?? '') ? '' : request.host);
    const socket = tlsConnect({
      ...request,
      path: undefined,
      ...(servername === undefined ? {} : { servername }),
    });
    // Given as an option, Node 20 decodes the session twice (in the socket's set-up and
    // again after connect), each decode parsing the server's certificate inside it
    // (~0.3 ms in the profile of many sign-ins). Set once here, before TCP connects
    // and the handshake starts, it is offered all the same: this is what tls.connect
    // itself does with the option (lib/_tls_wrap.js), by a method @types/node omits;
    // test/inprocess/tls-resume.test.ts fails if it stops resuming.
    const session = sessions.get(key);
    const resumable = socket as TLSSocket & { setSession?: (session: Buffer) => void };
    if (session !== undefined) resumable.setSession?.(session);
    socket.on('session', (ticket: Buffer) => {
      rememberSession(key, ticket);
    });
    return socket;
  };
}

/**
 * ws hands its options to tls.connect, which takes a ready context, and calls
 * createConnection with the request's options alone (lib/websocket.js); its types
 * omit the first and name net's overloads for the second.
 */
type Settings = Omit<WebSocket.ClientOptions, 'createConnection'> & {
  secureContext: SecureContext;
  createConnection: (request: ConnectionOptions) => TLSSocket;
};

/** An open WebSocket to `url` whose TLS certificate chains to one of `ca`. */
async function open(
  url: string,
  options: Parameters<Connector>[1],
  ca: readonly string[],
): Promise<WebSocket> {
  const settings: Settings = {
    secureContext: contextFor(ca),
    createConnection: resumingConnection(`${url}\n${ca.join('\n')}`),
    minVersion: 'TLSv1.3',
    maxPayload: options.maxFrame,
    perMessageDeflate: false,
    handshakeTimeout: CONNECT_TIMEOUT_MS,
    // An all-zero masking key: ws then sends payloads without copying them. Masking
    // guards intermediaries that read WebSocket traffic against script-chosen bytes
    // (RFC 6455 10.3); inside TLS none can, and our payloads are ciphertext anyway.
    // Browsers keep masking; see docs/DECISIONS.md.
    generateMask: (mask: Buffer) => {
      mask.fill(0);
    },
  };
  const ws = new WebSocket(url, settings as WebSocket.ClientOptions);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => {
      resolve();
    });
    ws.once('error', reject);
  });
  return ws;
}

/**
 * Tries the pinned sisp CA alone first: the default server's certificate chains to it,
 * and a TLS context holding the system's ~150 roots costs ~50 ms to build, a third of
 * a short command's start-up. Only a certificate that does not chain to the sisp CA
 * (an operator's, `sisp serve --tls-cert`) is tried again against the full list
 * (tls-trust.ts): the same certificates are accepted either way.
 */
async function openTrusted(url: string, options: Parameters<Connector>[1]): Promise<WebSocket> {
  try {
    return await open(url, options, [options.caPem]);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    if (!CERTIFICATE_FAILURE.test(code)) throw describeConnectError(url, error as Error);
  }
  try {
    return await open(url, options, listenerTrust(options.caPem));
  } catch (error) {
    throw describeConnectError(url, error as Error);
  }
}

export const nodeConnector: Connector = async (url, options, events) => {
  const ws = await openTrusted(url, options);
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    // A text message is not SISP/2: an empty frame fails to decode and closes.
    events.message(isBinary ? data : new Uint8Array(0));
  });
  ws.on('close', (code: number) => {
    events.close(code);
  });
  ws.on('error', () => {
    // 'close' follows and reports it.
  });
  return wrap(ws);
};
