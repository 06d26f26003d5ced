/**
 * `sisp watch`: one NEW_IMAGE line per newly visible image, flushed, until
 * interrupted; reconnects by itself when the connection drops (server restart).
 */
import type { SispClient } from '../core/client.js';
import { isSispError } from '../protocol/errors.js';
import type { ImageEvent } from '../core/connection.js';
import { toHex } from '../protocol/bytes.js';
import type { Output } from './output.js';
import { login, type CliContext } from './context.js';
import { jsonLine, quoteName } from './output.js';

const FATAL_CODES = new Set([
  'E_AUTH',
  'E_CERTIFICATE',
  'E_PASSPHRASE',
  'E_KEY_CHANGED',
  'E_BAD_REQUEST',
]);

/** Each event kind by its word, as the original system printed NEW_IMAGE. */
const EVENT_WORDS = {
  'event.new_image': 'NEW_IMAGE',
  'event.deleted': 'DELETED',
  'event.unshared': 'UNSHARED',
} as const;

/** One event as a line: `NEW_IMAGE <name> <owner>` (or DELETED) with the name quoted if needed, or JSON. */
export function eventLine(event: ImageEvent, json: boolean): string {
  const { owner, name, image } = event.body;
  const word = EVENT_WORDS[event.type];
  return json
    ? jsonLine({ event: word, owner, name, image: toHex(image) })
    : `${word} ${quoteName(name)} ${owner}\n`;
}

export async function commandWatch(
  options: CliContext,
  output: Output,
  signal: AbortSignal,
  format: { json?: boolean } = {},
): Promise<void> {
  let delay = 500;
  let announced = false;
  while (!signal.aborted) {
    let client: SispClient;
    try {
      client = await login(options);
    } catch (error) {
      if (isSispError(error) && FATAL_CODES.has(error.code)) throw error;
      if (!announced) output.err.write('waiting for the server...\n');
      announced = true;
      await sleep(delay, signal);
      delay = Math.min(delay * 2, 5000);
      continue;
    }
    if (announced) output.err.write('connected\n');
    announced = false;
    delay = 500;
    await new Promise<void>((resolve) => {
      client.connection.onEvent = (event) => {
        output.out.write(eventLine(event, format.json === true));
      };
      client.connection.onClose(() => {
        resolve();
      });
      const stop = (): void => {
        client.close();
        resolve();
      };
      signal.addEventListener('abort', stop, { once: true });
      client.connection.onClose(() => {
        signal.removeEventListener('abort', stop);
      });
    });
    if (!isAborted(signal)) {
      output.err.write('connection lost; reconnecting...\n');
      announced = true;
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const wake = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', wake);
      resolve();
    }, ms);
    signal.addEventListener('abort', wake, { once: true });
  });
}

/** Read through a call: the signal changes while we await, which narrowing cannot see. */
function isAborted(signal: AbortSignal): boolean {
  return signal.aborted;
}
