/**
 * `sisp watch`: one NEW_IMAGE line per newly visible image, flushed, until
 * interrupted; reconnects by itself when the connection drops (server restart).
 */
import type { SispClient } from '../core/client.js';
import { isSispError } from '../protocol/errors.js';
import { eventsAfter, fromPush, type WatchEvent } from '../core/events.js';
import { ReconnectSchedule } from '../core/reconnect.js';
import { toHex } from '../protocol/bytes.js';
import type { Output } from './output.js';
import { login, type CliContext } from './context.js';
import { jsonLine, quoteName } from './output.js';
import { WatchPositions } from './watch-position.js';

const FATAL_CODES = new Set([
  'E_AUTH',
  'E_CERTIFICATE',
  'E_PASSPHRASE',
  'E_KEY_CHANGED',
  'E_BAD_REQUEST',
]);

/** Each event kind by its word, as the original system printed NEW_IMAGE. */
const EVENT_WORDS = {
  new_image: 'NEW_IMAGE',
  deleted: 'DELETED',
  withdrawn: 'UNSHARED',
  album_shared: 'ALBUM_SHARED',
  album_unshared: 'ALBUM_UNSHARED',
} as const;

/**
 * One event as a line: `NEW_IMAGE <name> <owner>` (DELETED, UNSHARED; ALBUM_SHARED
 * and ALBUM_UNSHARED with the album's name) with the name quoted if needed, or JSON.
 */
export function eventLine(event: WatchEvent, json: boolean): string {
  const { owner, name, image, position } = event;
  const word = EVENT_WORDS[event.kind];
  const isAlbum = event.kind === 'album_shared' || event.kind === 'album_unshared';
  return json
    ? jsonLine({ event: word, owner, name, [isAlbum ? 'album' : 'image']: toHex(image), position })
    : `${word} ${quoteName(name)} ${owner}\n`;
}

/**
 * Prints each event once, in order: those read back from the log after the saved
 * position, then those pushed live (held back while catching up), skipping any at or
 * before the last one printed. The position is saved after each, so a restart of
 * either side resumes where it stopped.
 */
class Printer {
  #last: number | undefined;
  #catchingUp = true;
  readonly #held: WatchEvent[] = [];

  constructor(
    private readonly output: Output,
    private readonly json: boolean,
    private readonly saved: WatchPositions,
  ) {}

  async start(client: SispClient): Promise<void> {
    this.#catchingUp = true;
    client.connection.onEvent = (event) => {
      this.#held.push(fromPush(event));
      if (!this.#catchingUp) void this.#flush(client);
    };
    this.#last ??= await this.saved.read(client);
    if (this.#last === undefined) {
      // First run: start from now, as the original system did.
      this.#last = (await eventsAfter(client)).position;
      await this.saved.write(client, this.#last);
    } else {
      for (let more = true; more;) {
        const page = await eventsAfter(client, this.#last);
        for (const event of page.events) await this.#print(client, event);
        this.#last = Math.max(this.#last, page.position);
        more = page.more;
      }
    }
    this.#catchingUp = false;
    await this.#flush(client);
  }

  async #flush(client: SispClient): Promise<void> {
    for (let event = this.#held.shift(); event !== undefined; event = this.#held.shift())
      await this.#print(client, event);
  }

  async #print(client: SispClient, event: WatchEvent): Promise<void> {
    if (this.#last !== undefined && event.position <= this.#last) return;
    this.output.out.write(eventLine(event, this.json));
    this.#last = event.position;
    await this.saved.write(client, event.position);
  }
}

export async function commandWatch(
  options: CliContext,
  output: Output,
  signal: AbortSignal,
  format: { json?: boolean } = {},
): Promise<void> {
  const printer = new Printer(output, format.json === true, new WatchPositions(options.home));
  const schedule = new ReconnectSchedule();
  let announced = false;
  while (!signal.aborted) {
    let client: SispClient | undefined;
    try {
      client = await login(options);
      await printer.start(client);
    } catch (error) {
      client?.close();
      if (isSispError(error) && FATAL_CODES.has(error.code)) throw error;
      if (!announced) output.err.write('waiting for the server...\n');
      announced = true;
      await sleep(schedule.next(), signal);
      continue;
    }
    if (announced) output.err.write('connected\n');
    announced = false;
    schedule.reset();
    await untilClosed(client, signal);
    if (!isAborted(signal)) {
      output.err.write('connection lost; reconnecting...\n');
      announced = true;
    }
  }
}

function untilClosed(client: SispClient, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = (): void => {
      client.close();
      resolve();
    };
    signal.addEventListener('abort', stop, { once: true });
    client.connection.onClose(() => {
      signal.removeEventListener('abort', stop);
      resolve();
    });
  });
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
