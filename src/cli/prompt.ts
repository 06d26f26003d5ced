/**
 * The interactive prompt: the original system's commands as they were written
 * (REGISTER, POST_IMAGE, DOWNLOAD, DISPLAY), their lowercase forms, LIST, HELP and
 * QUIT. Notifications are printed above the line being typed without garbling it.
 * With commands piped to standard input it runs them in order and exits at the end.
 */
import { createInterface, clearLine, cursorTo } from 'node:readline';
import type { SispClient } from '../core/client.js';
import { sispError } from '../protocol/errors.js';
import {
  commandDisplay,
  commandDownload,
  commandPost,
  describeFailure,
  formatList,
  listImages,
  type Output,
} from './commands.js';
import { connect, login, type CliContext } from './context.js';
import { safeLine } from './terminal.js';

const HELP = `commands:
  REGISTER <username>              make keys and register with the server
  POST_IMAGE <name> <path>         encrypt, sign and share an image with everyone
  POST_IMAGE <name> <path> --to a,b  share with named users only
  DOWNLOAD <name | owner/name>     verify, decrypt and save an image
  DISPLAY <name | owner/name>      show an image
  LIST                             images you may see
  HELP                             this text
  QUIT                             leave
`;

export async function runPrompt(
  options: CliContext,
  output: Output,
  input: NodeJS.ReadableStream & { isTTY?: boolean },
): Promise<number> {
  const interactive = input.isTTY === true && output.out.isTTY === true;
  const rl = createInterface({
    input,
    output: output.out,
    terminal: interactive,
    prompt: 'sisp> ',
  });
  // Take the iterator now: it buffers lines that arrive while we log in below.
  const lines = rl[Symbol.asyncIterator]();
  let client: SispClient | undefined;
  let failures = 0;

  const print = (text: string): void => {
    if (interactive) {
      clearLine(output.out, 0);
      cursorTo(output.out, 0);
      output.out.write(text);
      rl.prompt(true);
    } else {
      output.out.write(text);
    }
  };
  const attach = (connected: SispClient): void => {
    client = connected;
    connected.connection.onEvent = (event) => {
      print(`NEW_IMAGE ${safeLine(event.body.name)} ${event.body.owner}\n`);
    };
  };
  const need = (): SispClient => {
    if (client === undefined) throw sispError('E_AUTH', 'register first: REGISTER <username>');
    return client;
  };

  if (await options.home.hasIdentity()) {
    try {
      attach(await login(options));
    } catch (error) {
      output.err.write(`error: ${describeFailure(error)}\n`);
    }
  }
  if (interactive) {
    output.out.write(
      `sisp interactive prompt${client === undefined ? '' : ` (logged in as ${client.username})`}; HELP for commands\n`,
    );
    rl.prompt();
  }

  const run = async (line: string): Promise<boolean> => {
    const words = line
      .trim()
      .split(/\s+/)
      .filter((word) => word !== '');
    const [rawCommand, ...args] = words;
    if (rawCommand === undefined) return true;
    const command = rawCommand.toUpperCase();
    switch (command) {
      case 'QUIT':
      case 'EXIT':
        return false;
      case 'HELP':
        output.out.write(HELP);
        return true;
      case 'REGISTER': {
        if (args.length !== 1 || args[0] === undefined)
          throw sispError('E_BAD_REQUEST', 'usage: REGISTER <username>');
        if (client !== undefined)
          throw sispError('E_BAD_REQUEST', `already registered as ${client.username}`);
        const connected = await connect(options);
        try {
          const { fingerprint } = await connected.register(args[0], options.passphrase);
          attach(connected);
          output.out.write(`registered ${connected.username}; key fingerprint ${fingerprint}\n`);
        } catch (error) {
          connected.close();
          throw error;
        }
        return true;
      }
      case 'POST_IMAGE':
      case 'POST': {
        const toIndex = args.indexOf('--to');
        const to =
          toIndex >= 0
            ? (args[toIndex + 1] ?? '').split(',').filter((name) => name !== '')
            : undefined;
        const rest = toIndex >= 0 ? args.slice(0, toIndex) : args;
        const [name, ...pathWords] = rest;
        if (name === undefined || pathWords.length === 0)
          throw sispError('E_BAD_REQUEST', 'usage: POST_IMAGE <name> <path> [--to user1,user2]');
        await commandPost(
          need(),
          output,
          name,
          pathWords.join(' '),
          to === undefined ? {} : { to },
        );
        return true;
      }
      case 'DOWNLOAD': {
        if (args.length !== 1 || args[0] === undefined)
          throw sispError('E_BAD_REQUEST', 'usage: DOWNLOAD <name | owner/name>');
        const result = await commandDownload(need(), output, args[0], options.home.downloads);
        output.out.write(`${result.result}\n`);
        return true;
      }
      case 'DISPLAY': {
        if (args.length !== 1 || args[0] === undefined)
          throw sispError('E_BAD_REQUEST', 'usage: DISPLAY <name | owner/name>');
        await commandDisplay(need(), options.home, output, args[0], {});
        return true;
      }
      case 'LIST':
        output.out.write(formatList(await listImages(need())));
        return true;
      default:
        throw sispError('E_BAD_REQUEST', `unknown command ${rawCommand}; HELP lists the commands`);
    }
  };

  // Lines run one at a time, in order, even when piped in faster than they finish.
  for await (const line of lines) {
    let keepGoing = true;
    try {
      keepGoing = await run(line);
    } catch (error) {
      failures++;
      output.err.write(`error: ${describeFailure(error)}\n`);
    }
    if (!keepGoing) break;
    if (interactive) rl.prompt();
  }
  rl.close();
  client?.close();
  return interactive || failures === 0 ? 0 : 1;
}
