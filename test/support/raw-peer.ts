/**
 * A test-side SISP/2 peer built from the project's own protocol and crypto layers,
 * for attacks the real CLI would never make (naming another user, forged owners,
 * raw frames). It talks to the real server process over real TLS.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { fromPem } from '../../src/crypto/certificates.js';
import type { Identity } from '../../src/crypto/keys.js';
import { openKeystore } from '../../src/crypto/keystore.js';
import { authPayload, signPayload } from '../../src/crypto/signatures.js';
import { decodeFrame, encodeFrame } from '../../src/protocol/frame.js';
import type { Message, MessageBody, MessageType } from '../../src/protocol/messages.js';

export class RawPeer {
  readonly ws: WebSocket;
  readonly received: Message[] = [];
  closeCode: number | undefined;
  readonly #waiters: (() => void)[] = [];

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data: Buffer) => {
      const result = decodeFrame(data);
      if (result.ok) this.received.push(result.message);
      this.#wake();
    });
    ws.on('close', (code) => {
      this.closeCode = code;
      this.#wake();
    });
    ws.on('error', () => undefined);
  }

  static async connect(
    url: string,
    caPath: string,
    options: { maxPayload?: number } = {},
  ): Promise<RawPeer> {
    const ws = new WebSocket(url, {
      ca: readFileSync(caPath, 'utf8'),
      maxPayload: options.maxPayload ?? 64 * 1024 * 1024,
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => {
        resolve();
      });
      ws.once('error', reject);
    });
    return new RawPeer(ws);
  }

  caDer(caPath: string): Uint8Array {
    return fromPem(readFileSync(caPath, 'utf8'));
  }

  #wake(): void {
    for (const wake of this.#waiters.splice(0)) wake();
  }

  send<T extends MessageType>(type: T, id: number, body: MessageBody<T>): void {
    this.ws.send(encodeFrame(type, id, body));
  }

  sendRaw(bytes: Uint8Array | string): void {
    this.ws.send(bytes);
  }

  async next(predicate: (message: Message) => boolean, timeoutMs = 10_000): Promise<Message> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.received.findIndex(predicate);
      if (index >= 0) return this.received.splice(index, 1)[0] as Message;
      if (this.closeCode !== undefined)
        throw new Error(`connection closed (${this.closeCode}) while waiting`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for a message');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async reply(id: number): Promise<Message> {
    return this.next((message) => message.id === id);
  }

  async closed(timeoutMs = 10_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (this.closeCode === undefined) {
      if (Date.now() > deadline) throw new Error('connection was not closed');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 100);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.closeCode;
  }

  close(): void {
    this.ws.terminate();
  }
}

/** A raw peer authenticated as the user whose keys are in `homeDir`. */
export async function loggedInPeer(url: string, caPath: string, homeDir: string): Promise<RawPeer> {
  const keys = await openKeystore(readFileSync(join(homeDir, 'identity.key')));
  return authenticatedPeer(url, caPath, keys.username, keys.identity);
}

/** A raw peer that said hello and authenticated as `username` (request ids 1 and 2). */
export async function authenticatedPeer(
  url: string,
  caPath: string,
  username: string,
  identity: Identity,
): Promise<RawPeer> {
  const peer = await RawPeer.connect(url, caPath);
  peer.send('hello', 1, { versions: [2] });
  const welcome = await peer.reply(1);
  if (welcome.type !== 'welcome') throw new Error(`expected welcome, got ${welcome.type}`);
  const payload = authPayload({
    username,
    nonce: welcome.body.nonce,
    caFingerprint: welcome.body.caFingerprint,
  });
  const signature = await signPayload('auth', identity.signing.privateKey, payload);
  peer.send('auth', 2, { username, signature });
  const authed = await peer.reply(2);
  if (authed.type !== 'authed') throw new Error(`expected authed, got ${authed.type}`);
  return peer;
}
