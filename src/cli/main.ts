/** The client CLI: global options, one subcommand each, errors as one plain line. */
import { resolve } from 'node:path';
import { Command, CommanderError } from 'commander';
import type { SispClient } from '../core/client.js';
import { sispError } from '../protocol/errors.js';
import { defaultHome, Home } from '../client/home.js';
import {
  commandCert,
  commandDisplay,
  commandDownload,
  commandPost,
  describeFailure,
  formatList,
  listImages,
  type Output,
} from './commands.js';
import { connect, login, type CliContext } from './context.js';
import { askPassphrase, isInteractive, takePassphraseFromEnv } from './passphrase.js';
import { runPrompt } from './prompt.js';
import { commandWatch } from './watch.js';

const terminal = { input: process.stdin, output: process.stderr };

/** On a terminal, asks for a passphrase for new keys (twice); empty means none. */
async function choosePassphrase(): Promise<string | undefined> {
  if (!isInteractive(terminal)) return undefined;
  const first = await askPassphrase(terminal, 'passphrase to protect the keys (empty for none): ');
  if (first === '') return undefined;
  const again = await askPassphrase(terminal, 'the same passphrase again: ');
  if (again !== first)
    throw sispError('E_PASSPHRASE', 'the two passphrases differ; nothing was registered');
  return first;
}

interface GlobalOptions {
  home?: string;
  server?: string;
  ca?: string;
}

function cliContext(globals: GlobalOptions, passphrase: string | undefined): CliContext {
  const env = process.env;
  const home = new Home(globals.home === undefined ? defaultHome(env) : resolve(globals.home));
  const server = globals.server ?? (env.SISP_SERVER === '' ? undefined : env.SISP_SERVER);
  const ca = globals.ca ?? (env.SISP_CA === '' ? undefined : env.SISP_CA);
  return {
    home,
    ...(server === undefined ? {} : { server }),
    ...(ca === undefined ? {} : { caFile: ca }),
    ...(passphrase === undefined ? {} : { passphrase }),
  };
}

async function withClient<T>(
  context: CliContext,
  action: (client: SispClient) => Promise<T>,
): Promise<T> {
  const client = await login(context);
  try {
    return await action(client);
  } finally {
    client.close();
  }
}

export async function runClient(argv: string[]): Promise<number> {
  const output: Output = { out: process.stdout, err: process.stderr };
  const program = new Command('sisp')
    .description('secure image sharing: encrypt, sign, share, verify, decrypt')
    .option('--home <dir>', 'client state directory (env SISP_HOME; default $XDG_CONFIG_HOME/sisp)')
    .option('--server <url>', 'server address, wss://HOST:PORT/ (env SISP_SERVER)')
    .option('--ca <file>', "the server's CA certificate, DATA/ca.pem (env SISP_CA)")
    .exitOverride()
    .configureOutput({
      writeErr: (text) => process.stderr.write(text),
      writeOut: (text) => process.stdout.write(text),
    })
    .showSuggestionAfterError();
  // Taken out of the environment: no program sisp starts (an image viewer) inherits it.
  const passphrase = takePassphraseFromEnv(process.env);
  const globals = (): CliContext => cliContext(program.opts<GlobalOptions>(), passphrase);
  let result = 0;

  program.command('serve').description('run the server (see sisp serve --help)');
  program
    .command('register <username>')
    .description('make keys, register with the server, store the keys (mode 0600)')
    .action(async (username: string) => {
      const options = globals();
      // Asked before connecting: the server gives a handshake only so long.
      const passphrase = options.passphrase ?? (await choosePassphrase());
      const client = await connect(options);
      try {
        const { fingerprint } = await client.register(username, passphrase);
        output.out.write(
          `registered ${client.username}\nkey fingerprint: ${fingerprint}\nkeys stored in ${options.home.dir}\n`,
        );
        if (passphrase === undefined)
          output.err.write(
            'warning: the private keys are stored unencrypted (anyone who can read the home folder can use them); set SISP_PASSPHRASE when registering to protect them\n',
          );
      } finally {
        client.close();
      }
    });
  program
    .command('post <name> <path>')
    .description('encrypt, sign and share an image (everyone, or --to named users)')
    .option('--to <users>', 'comma-separated recipients; only they (and you) can decrypt it')
    .option('--replace', 'replace your existing image of the same name')
    .action(async (name: string, path: string, options: { to?: string; replace?: boolean }) => {
      const to = options.to
        ?.split(',')
        .map((user) => user.trim())
        .filter((user) => user !== '');
      await withClient(globals(), (client) =>
        commandPost(client, output, name, path, {
          ...(to === undefined ? {} : { to }),
          replace: options.replace === true,
        }),
      );
    });
  program
    .command('download <image>')
    .description('verify, decrypt and save an image (name or owner/name)')
    .option('--out <dir>', 'where to write it (default HOME/downloads)')
    .option('--force', 'replace a file of the same name there (otherwise it is never touched)')
    .action(async (image: string, options: { out?: string; force?: boolean }) => {
      const context = globals();
      await withClient(context, async (connected) => {
        const outDir = options.out === undefined ? context.home.downloads : resolve(options.out);
        const downloaded = await commandDownload(connected, output, image, outDir, {
          replace: options.force === true,
        });
        output.out.write(`${downloaded.result}\n`);
      });
    });
  program
    .command('display <image>')
    .description('show an image in the terminal (downloads it if needed)')
    .option('--open', "open it in the system's image viewer instead")
    .action(async (image: string, options: { open?: boolean }) => {
      const context = globals();
      await withClient(context, (client) =>
        commandDisplay(client, context.home, output, image, options),
      );
    });
  program
    .command('list')
    .description('images you may see')
    .action(async () => {
      await withClient(globals(), async (client) => {
        output.out.write(formatList(await listImages(client)));
      });
    });
  program
    .command('watch')
    .description('print NEW_IMAGE <name> <owner> for each new image, until interrupted')
    .action(async () => {
      const controller = new AbortController();
      const stop = (): void => {
        controller.abort();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      await commandWatch(globals(), output, controller.signal);
    });
  program
    .command('cert [username]')
    .description("a user's certificate (PEM, verified against the CA) and key fingerprint")
    .action(async (username?: string) => {
      await withClient(globals(), (client) => commandCert(client, output, username));
    });

  try {
    const commandGiven = argv.some(
      (arg) => !arg.startsWith('-') && program.commands.some((c) => c.name() === arg),
    );
    if (!commandGiven && !argv.includes('--help') && !argv.includes('-h')) {
      const parsed = program.parseOptions(argv);
      if (parsed.unknown.length > 0 || parsed.operands.length > 0) {
        output.err.write(
          `error: unknown command or option ${[...parsed.operands, ...parsed.unknown].join(' ')}; try sisp --help\n`,
        );
        return 2;
      }
      return await runPrompt(globals(), output, process.stdin);
    }
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    output.err.write(`error: ${describeFailure(error)}\n`);
    if (process.env.SISP_DEBUG === '1' && error instanceof Error)
      output.err.write(`${error.stack ?? ''}\n`);
    result = 1;
  }
  return result;
}
