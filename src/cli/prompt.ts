/**
 * The interactive prompt: the original system's commands as they were written
 * (REGISTER, POST_IMAGE, DOWNLOAD, DISPLAY), their lowercase forms, LIST, HELP and
 * QUIT. Notifications are printed above the line being typed (and above a progress
 * bar) without garbling either. Ctrl-C clears the line or cancels the transfer that
 * is running; Ctrl-D or QUIT leaves; Tab completes commands and image names. With
 * commands piped to standard input it runs them in order and exits at the end.
 */
import { clearLine, createInterface, cursorTo, type Interface } from 'node:readline';
import { listImages } from '../core/catalogue.js';
import type { SispClient } from '../core/client.js';
import { fromPush } from '../core/events.js';
import { deleteImage, usage } from '../core/manage.js';
import { shareImage, unshareImage } from '../core/sharing.js';
import { sispError } from '../protocol/errors.js';
import {
  commandDownload,
  commandPost,
  describeFailure,
  downloadTarget,
  formatList,
} from './commands.js';
import { connect, login, type CliContext } from './context.js';
import { quoteName, quoteReference, type Output } from './output.js';
import type { LiveProgress } from './progress.js';
import { splitWords } from './prompt-words.js';
import { commandDisplay } from './show.js';
import { formatUsage } from './usage.js';
import { eventLine } from './watch.js';

const HELP = `commands:
  REGISTER <username>              make keys and register with the server
  POST_IMAGE <name> <path>         encrypt, sign and share an image with everyone
  POST_IMAGE <name> <path> --to a,b  share with named users only
  DOWNLOAD <name | owner/name>     verify, decrypt and save an image
  DISPLAY <name | owner/name>      show an image
  LIST                             images you may see
  DELETE <name>                    delete one of your images
  SHARE <name> <user,user>         let more users see one of your private images
  UNSHARE <name> <user,user>       withdraw their access at once
  USAGE                            what you store, against what is allowed
  HELP                             this text
  QUIT                             leave (or Ctrl-D)
Names with spaces go in quotes: DOWNLOAD "alice/beach day". Tab completes commands
and image names; Ctrl-C clears the line or cancels a running transfer.
`;

const COMMANDS = [
  'REGISTER',
  'POST_IMAGE',
  'DOWNLOAD',
  'DISPLAY',
  'LIST',
  'DELETE',
  'SHARE',
  'UNSHARE',
  'USAGE',
  'HELP',
  'QUIT',
];

/** What the prompt keeps between lines. */
class PromptState {
  client: SispClient | undefined;
  /** Image references seen (LIST, notifications), for Tab. */
  readonly names = new Set<string>();
  listed = false;
  /** The command running now, which Ctrl-C cancels. */
  running: AbortController | undefined;
  readonly live: LiveProgress = { current: undefined };

  need(): SispClient {
    if (this.client === undefined) throw sispError('E_AUTH', 'register first: REGISTER <username>');
    return this.client;
  }

  remember(owner: string, name: string): void {
    this.names.add(quoteReference(owner, name));
    if (owner === this.client?.username) this.names.add(quoteName(name));
  }

  forget(owner: string, name: string): void {
    this.names.delete(quoteReference(owner, name));
    if (owner === this.client?.username) this.names.delete(quoteName(name));
  }
}

interface PromptIo {
  readonly state: PromptState;
  readonly options: CliContext;
  readonly output: Output;
  readonly print: (text: string) => void;
}

/** Runs one line; false means leave. */
async function runLine(io: PromptIo, line: string, signal: AbortSignal): Promise<boolean> {
  const { state, options, output } = io;
  const [rawCommand, ...args] = splitWords(line);
  if (rawCommand === undefined) return true;
  const command = rawCommand.toUpperCase();
  const one = (usage: string): string => {
    if (args.length !== 1 || args[0] === undefined)
      throw sispError('E_BAD_REQUEST', `usage: ${usage}`);
    return args[0];
  };
  switch (command) {
    case 'QUIT':
    case 'EXIT':
      return false;
    case 'HELP':
      output.out.write(HELP);
      return true;
    case 'REGISTER':
      await register(io, one('REGISTER <username>'));
      return true;
    case 'POST_IMAGE':
    case 'POST':
      await post(io, args, signal);
      return true;
    case 'DOWNLOAD': {
      const reference = one('DOWNLOAD <name | owner/name>');
      await commandDownload(
        state.need(),
        output,
        reference,
        (owner) => downloadTarget(options.home, owner, undefined),
        { signal, live: state.live },
      );
      return true;
    }
    case 'DISPLAY':
      await commandDisplay(state.need(), options.home, output, one('DISPLAY <name | owner/name>'), {
        signal,
      });
      return true;
    case 'LIST': {
      const images = await listImages(state.need());
      for (const image of images) state.remember(image.owner, image.name);
      state.listed = true;
      output.out.write(formatList(images));
      return true;
    }
    case 'DELETE': {
      const deleted = await deleteImage(state.need(), one('DELETE <name>'));
      state.forget(deleted.owner, deleted.name);
      output.out.write(`deleted ${quoteReference(deleted.owner, deleted.name)}\n`);
      return true;
    }
    case 'SHARE':
    case 'UNSHARE':
      await changeSharing(io, command, args);
      return true;
    case 'USAGE':
      output.out.write(formatUsage(await usage(state.need()), false));
      return true;
    default:
      throw sispError('E_BAD_REQUEST', `unknown command ${rawCommand}; HELP lists the commands`);
  }
}

async function register(io: PromptIo, username: string): Promise<void> {
  const { state, options, output } = io;
  if (state.client !== undefined)
    throw sispError('E_BAD_REQUEST', `already registered as ${state.client.username}`);
  const connected = await connect(options);
  try {
    const { fingerprint } = await connected.register(username, options.passphrase);
    attach(io, connected);
    output.out.write(`registered ${connected.username}; key fingerprint ${fingerprint}\n`);
  } catch (error) {
    connected.close();
    throw error;
  }
}

async function post(io: PromptIo, args: readonly string[], signal: AbortSignal): Promise<void> {
  const toIndex = args.indexOf('--to');
  const to =
    toIndex >= 0 ? (args[toIndex + 1] ?? '').split(',').filter((name) => name !== '') : undefined;
  const rest = toIndex >= 0 ? args.slice(0, toIndex) : args;
  const [name, ...pathWords] = rest;
  if (name === undefined || pathWords.length === 0)
    throw sispError('E_BAD_REQUEST', 'usage: POST_IMAGE <name> <path> [--to user1,user2]');
  await commandPost(io.state.need(), io.output, name, pathWords.join(' '), {
    ...(to === undefined ? {} : { to }),
    signal,
    live: io.state.live,
  });
}

async function changeSharing(
  io: PromptIo,
  command: 'SHARE' | 'UNSHARE',
  args: readonly string[],
): Promise<void> {
  const [name, users] = args;
  if (name === undefined || users === undefined || args.length !== 2)
    throw sispError('E_BAD_REQUEST', `usage: ${command} <name> <user,user>`);
  const named = users.split(',').filter((user) => user !== '');
  const client = io.state.need();
  if (command === 'SHARE') {
    const shared = await shareImage(client, name, named);
    io.output.out.write(
      `shared ${quoteReference(client.username, shared.image.name)} with ${shared.recipients.join(', ')}\n`,
    );
    return;
  }
  const { image, withdrawn } = await unshareImage(client, name, named);
  const who =
    withdrawn.length === 0
      ? 'nobody had access to withdraw'
      : `withdrawn from ${withdrawn.join(', ')}`;
  io.output.out.write(`${quoteReference(client.username, image.name)}: ${who}\n`);
}

function attach(io: PromptIo, connected: SispClient): void {
  io.state.client = connected;
  connected.connection.onEvent = (event) => {
    if (event.type === 'event.new_image') io.state.remember(event.body.owner, event.body.name);
    else if (event.type === 'event.deleted' || event.type === 'event.unshared')
      io.state.forget(event.body.owner, event.body.name);
    io.print(eventLine(fromPush(event), false));
  };
}

/** Tab: command names first, then the image names seen (the first Tab lists them). */
function completer(state: PromptState) {
  return (line: string, callback: (error: null, result: [string[], string]) => void): void => {
    const typed = line.trimStart();
    const space = typed.search(/\s/);
    if (space < 0) {
      const lower = typed !== '' && typed === typed.toLowerCase();
      // With the space after it, so the next word can follow at once.
      const candidates = COMMANDS.map((command) => `${lower ? command.toLowerCase() : command} `);
      callback(null, [candidates.filter((command) => command.startsWith(typed)), typed]);
      return;
    }
    const command = typed.slice(0, space).toUpperCase();
    const word = typed.slice(space).trimStart();
    const answer = (): void => {
      const names = [...state.names].sort().filter((name) => name.startsWith(word));
      callback(null, [names, word]);
    };
    if (
      (command !== 'DOWNLOAD' && command !== 'DISPLAY') ||
      state.listed ||
      state.client === undefined
    ) {
      answer();
      return;
    }
    state.listed = true;
    listImages(state.client).then((images) => {
      for (const image of images) state.remember(image.owner, image.name);
      answer();
    }, answer);
  };
}

/** Ctrl-C: cancel the transfer that runs, or clear the line, or say how to leave. */
function onInterrupt(rl: Interface, state: PromptState, output: Output): void {
  if (state.running !== undefined) {
    state.running.abort();
    return;
  }
  const hadText = rl.line !== '';
  rl.write(null, { ctrl: true, name: 'e' });
  rl.write(null, { ctrl: true, name: 'u' });
  output.out.write(hadText ? '^C\n' : '^C (QUIT or Ctrl-D leaves)\n');
  rl.prompt();
}

export async function runPrompt(
  options: CliContext,
  output: Output,
  input: NodeJS.ReadableStream & { isTTY?: boolean },
  interrupted: AbortSignal,
): Promise<number> {
  const interactive = input.isTTY === true && output.out.isTTY === true;
  const state = new PromptState();
  const rl = createInterface({
    input,
    output: output.out,
    terminal: interactive,
    prompt: 'sisp> ',
    ...(interactive ? { completer: completer(state) } : {}),
  });
  // Take the iterator now: it buffers lines that arrive while we log in below.
  const lines = rl[Symbol.asyncIterator]();
  const print = (text: string): void => {
    const bar = state.live.current;
    if (bar !== undefined) bar.log(output.out, text);
    else if (interactive) {
      clearLine(output.out, 0);
      cursorTo(output.out, 0);
      output.out.write(text);
      rl.prompt(true);
    } else output.out.write(text);
  };
  const io: PromptIo = { state, options, output, print };
  if (interactive)
    rl.on('SIGINT', () => {
      onInterrupt(rl, state, output);
    });

  if (await options.home.hasIdentity()) {
    try {
      attach(io, await login(options));
    } catch (error) {
      output.err.write(`error: ${describeFailure(error)}\n`);
    }
  }
  if (interactive) {
    const who = state.client === undefined ? '' : ` (logged in as ${state.client.username})`;
    output.out.write(`sisp interactive prompt${who}; HELP for commands, Tab completes\n`);
    rl.prompt();
  }
  const failures = await runLines(io, lines, interactive ? undefined : interrupted, () => {
    if (interactive) rl.prompt();
  });
  rl.close();
  state.client?.close();
  if (interactive) output.out.write('\n');
  if (interrupted.aborted) return 130;
  return interactive || failures === 0 ? 0 : 1;
}

/** Lines run one at a time, in order, even when piped in faster than they finish. */
async function runLines(
  io: PromptIo,
  lines: AsyncIterator<string>,
  interrupted: AbortSignal | undefined,
  next: () => void,
): Promise<number> {
  let failures = 0;
  for (;;) {
    const line = await lines.next();
    if (line.done === true || interrupted?.aborted === true) break;
    const running = new AbortController();
    io.state.running = running;
    const cancel = (): void => {
      running.abort();
    };
    interrupted?.addEventListener('abort', cancel, { once: true });
    let keepGoing = true;
    try {
      keepGoing = await runLine(io, line.value, running.signal);
    } catch (error) {
      failures++;
      io.output.err.write(`error: ${describeFailure(error)}\n`);
    } finally {
      io.state.running = undefined;
      interrupted?.removeEventListener('abort', cancel);
    }
    if (!keepGoing || isAborted(interrupted)) break;
    next();
  }
  return failures;
}

/** Read through a call: the signal changes while we await, which narrowing cannot see. */
function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}
