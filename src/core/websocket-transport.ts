/**
 * A Connector over the standard WebSocket API, as browsers have it. The browser
 * decides whom to trust for TLS, so `caPem` is not used here; the client still
 * checks the sisp CA fingerprint the server announces and verifies every
 * certificate against the CA itself.
 */
import { sispError } from '../protocol/errors.js';
import type { Connector } from './transport.js';

/** send() resolves once the browser's own queue is below this (it has no drain event). */
const DRAINED = 1024 * 1024;

function drained(socket: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (socket.readyState !== WebSocket.OPEN)
        reject(sispError('E_UNAVAILABLE', 'the connection is closed'));
      else if (socket.bufferedAmount <= DRAINED) resolve();
      else setTimeout(check, 5);
    };
    check();
  });
}

export const webSocketConnector: Connector = (url, _options, events) =>
  new Promise((resolve, reject) => {
    let socket: WebSocket;
    try {
      socket = new WebSocket(url);
    } catch (cause) {
      reject(sispError('E_BAD_REQUEST', `not a server address: ${url}`, { cause }));
      return;
    }
    socket.binaryType = 'arraybuffer';
    let opened = false;
    socket.onopen = () => {
      opened = true;
      resolve({
        send(frame) {
          if (socket.readyState !== WebSocket.OPEN)
            return Promise.reject(sispError('E_UNAVAILABLE', 'the connection is closed'));
          socket.send(frame);
          return drained(socket);
        },
        get bufferedAmount() {
          return socket.bufferedAmount;
        },
        close(code) {
          socket.close(code);
        },
      });
    };
    socket.onmessage = (event: MessageEvent<unknown>) => {
      if (event.data instanceof ArrayBuffer) events.message(new Uint8Array(event.data));
      else socket.close(1003);
    };
    socket.onclose = (event) => {
      if (!opened) reject(sispError('E_UNAVAILABLE', `cannot reach the server at ${url}`));
      else events.close(event.code);
    };
  });
