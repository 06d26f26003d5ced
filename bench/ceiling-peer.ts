/**
 * The receiving end of the raw-ceiling references, run as its own process:
 * `tls` counts bytes on a plain TLS 1.3 socket, `wss` counts bytes of binary
 * WebSocket messages (ws with bufferutil). It prints its port, takes one
 * connection, answers "done" after the expected byte count, and exits.
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { WebSocketServer } from 'ws';

const [mode, dir, expectedText] = process.argv.slice(2);
if (dir === undefined || expectedText === undefined)
  throw new Error('usage: ceiling-peer tls|wss DIR BYTES');
const expected = Number(expectedText);
const options = {
  key: readFileSync(join(dir, 'key.pem')),
  cert: readFileSync(join(dir, 'cert.pem')),
  minVersion: 'TLSv1.3' as const,
};

if (mode === 'tls') {
  const server = createTlsServer(options, (socket) => {
    let received = 0;
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received >= expected) {
        socket.end('done\n');
        server.close();
      }
    });
  });
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
  });
} else {
  const https = createHttpsServer(options);
  const wss = new WebSocketServer({
    server: https,
    maxPayload: 64 * 1024 * 1024,
    perMessageDeflate: false,
  });
  wss.on('connection', (ws) => {
    let received = 0;
    ws.on('message', (data: Buffer) => {
      received += data.length;
      if (received >= expected) {
        ws.send('done', () => {
          ws.close();
          https.close();
          wss.close();
        });
      }
    });
  });
  https.listen(0, '127.0.0.1', () => {
    process.stdout.write(`${(https.address() as AddressInfo).port}\n`);
  });
}
