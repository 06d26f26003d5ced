/**
 * The messages of one request, in arrival order, for a state machine that awaits
 * them one at a time. Credit frames go to the transfer's CreditWindow instead, and
 * an error also fails the window, so a sender waiting for credit wakes up.
 */
import { CreditWindow } from '../protocol/credit-window.js';
import { sispError } from '../protocol/errors.js';
import type { Message } from '../protocol/messages.js';

export class Replies {
  readonly #queue: Message[] = [];
  #wake: (() => void) | undefined;
  readonly window: CreditWindow | undefined;
  /** True once the server answered with an error: it has already ended the request. */
  errored = false;

  constructor(window?: CreditWindow) {
    this.window = window;
  }

  /** The connection's handler for this request id. */
  readonly receive = (message: Message): void => {
    if (message.type === 'credit') {
      this.window?.grant(message.body.bytes);
      return;
    }
    if (message.type === 'error') {
      this.errored = true;
      this.window?.fail(sispError(message.body.code, message.body.message));
    }
    this.#queue.push(message);
    this.#wake?.();
  };

  async next(): Promise<Message> {
    for (;;) {
      const message = this.#queue.shift();
      if (message !== undefined) return message;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
      this.#wake = undefined;
    }
  }

  /** The next message, which must be `type`; an error reply is thrown as SispError. */
  async expect<T extends Message['type']>(type: T): Promise<Extract<Message, { type: T }>> {
    const message = await this.next();
    if (message.type === 'error') throw sispError(message.body.code, message.body.message);
    if (message.type !== type)
      throw sispError('E_BAD_FRAME', `the server sent ${message.type} where ${type} was due`);
    return message as Extract<Message, { type: T }>;
  }
}
