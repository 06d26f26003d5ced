/**
 * The client's command tree: every command with its help, examples and options.
 * Actions stay thin: they turn flags into calls on commands.ts, show.ts, keys.ts
 * and watch.ts. The same tree makes the shell completion scripts.
 */
import { resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { toHex } from '../protocol/bytes.js';
import { defaultHome, Home } from '../client/home.js';
import { sispError } from '../protocol/errors.js';
import { completionScript, SHELLS } from './completion.js';
import type { CliContext } from './context.js';
import { addAlbumCommands } from './album.js';
import { addLinkCommands, downloadLink } from './link.js';
import { isLinkUrl } from '../protocol/link.js';
import { examples, JSON_HELP, parseWidth, recipients, withClient } from './command-kit.js';
import { jsonLine, quoteReference, type Output } from './output.js';
import { askPassphrase, isInteractive, type Terminal } from './passphrase.js';
import { VERSION } from '../version.js';

// The command tree is built on every run; what a command does is loaded only when it
// runs (below, `await import(...)` in each action), so that `sisp --help` needs only
// commander and `sisp list` never loads the post path (start-up: bench/README).
const commands = () => import('./commands.js');

export interface GlobalOptions {
  home?: string;
  server?: string;
  ca?: string;
}

/** What the actions need from the run: where to write, the secrets taken from the environment, Ctrl-C. */
export interface Run {
  readonly output: Output;
  readonly terminal: Terminal;
  readonly passphrase: string | undefined;
  readonly newPassphrase: string | undefined;
  readonly signal: AbortSignal;
  readonly env: NodeJS.ProcessEnv;
}

export function cliContext(
  globals: GlobalOptions,
  env: NodeJS.ProcessEnv,
  passphrase: string | undefined,
): CliContext {
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

/** On a terminal, asks for a passphrase for new keys (twice); empty means none. */
async function choosePassphrase(terminal: Terminal): Promise<string | undefined> {
  if (!isInteractive(terminal)) return undefined;
  const first = await askPassphrase(terminal, 'passphrase to protect the keys (empty for none): ');
  if (first === '') return undefined;
  const again = await askPassphrase(terminal, 'the same passphrase again: ');
  if (again !== first)
    throw sispError('E_PASSPHRASE', 'the two passphrases differ; nothing was registered');
  return first;
}

async function register(run: Run, context: CliContext, username: string): Promise<void> {
  if (context.server === undefined && (await context.home.readConfig()) === undefined)
    throw sispError(
      'E_BAD_REQUEST',
      "register needs the server's address and CA certificate, from its operator: " +
        '--server wss://HOST:PORT/ --ca ca.pem (or SISP_SERVER and SISP_CA)',
    );
  // Asked before connecting: the server gives a handshake only so long.
  const passphrase = context.passphrase ?? (await choosePassphrase(run.terminal));
  const { connect } = await import('./context.js');
  const client = await connect(context);
  try {
    const { fingerprint } = await client.register(username, passphrase);
    run.output.out.write(
      `registered ${client.username}\nkey fingerprint: ${fingerprint}\nkeys stored in ${context.home.dir}\n`,
    );
    if (passphrase === undefined)
      run.output.err.write(
        'warning: the private keys are stored unencrypted (anyone who can read the home folder can use them); ' +
          'protect them with: sisp passphrase\n',
      );
  } finally {
    client.close();
  }
}

function addImageCommands(program: Command, run: Run, globals: () => CliContext): void {
  const { output, signal } = run;
  program
    .command('post <name> <path>')
    .description('encrypt, sign and share an image (everyone, or --to named users)')
    .option('--to <users>', 'comma-separated recipients; only they (and you) can decrypt it')
    .option('--replace', 'replace your existing image of the same name')
    .option(
      '--strip-metadata',
      'remove EXIF, XMP, IPTC and GPS first, losslessly (default with SISP_STRIP_METADATA=1)',
    )
    .option('--keep-metadata', 'send the file exactly as it is, even with SISP_STRIP_METADATA=1')
    .option('--json', JSON_HELP)
    .addHelpText(
      'after',
      examples(
        'sisp post sunset ~/Pictures/sunset.jpg',
        'sisp post "beach day" beach.png --to bob,carol',
        'sisp post sunset sunset-2.jpg --replace',
        'sisp post holiday IMG_0042.jpg --strip-metadata',
      ) +
        '\nBy default the file is sent byte for byte, metadata included; post says so when it\n' +
        'carries a GPS position. Stripping never re-encodes: the pixels and the orientation stay.\n',
    )
    .action(
      async (
        name: string,
        path: string,
        options: {
          to?: string;
          replace?: boolean;
          stripMetadata?: boolean;
          keepMetadata?: boolean;
          json?: boolean;
        },
      ) => {
        const to = recipients(options.to);
        const strip =
          options.stripMetadata === true ||
          (options.keepMetadata !== true && run.env.SISP_STRIP_METADATA === '1');
        const { commandPost, startLoadingImageTools } = await commands();
        startLoadingImageTools();
        await withClient(globals(), (client) =>
          commandPost(client, output, name, path, {
            ...(to === undefined ? {} : { to }),
            replace: options.replace === true,
            stripMetadata: strip,
            json: options.json === true,
            signal,
          }),
        );
      },
    );
  program
    .command('download <image>')
    .description('verify, decrypt and save an image (name, owner/name, or a link URL)')
    .option('--out <path>', 'a folder, or a file name (default HOME/downloads/OWNER/)')
    .option('--force', 'replace a file of the same name there (otherwise it is never touched)')
    .option('--json', JSON_HELP)
    .addHelpText(
      'after',
      examples(
        'sisp download alice/sunset',
        'sisp download sunset --out ~/Pictures/',
        'sisp download alice/sunset --out sunset.jpg --force',
        "sisp download 'https://photos.example:8443/l/3q2-7wAAAAAAAAAAAAAAAA#...'   (a link: no account needed)",
      ),
    )
    .action(async (image: string, options: { out?: string; force?: boolean; json?: boolean }) => {
      const context = globals();
      // A link needs no account: it is opened over HTTPS with the secret in its fragment.
      if (isLinkUrl(image)) {
        await downloadLink(run, context, image, options);
        return;
      }
      const { commandDownload, downloadTarget } = await commands();
      await withClient(context, (client) =>
        commandDownload(
          client,
          output,
          image,
          (owner) => downloadTarget(context.home, owner, options.out),
          { replace: options.force === true, json: options.json === true, signal },
        ),
      );
    });
  program
    .command('display <image>')
    .description('show an image in the terminal (downloads it if needed)')
    .option('--open', "open it in the system's image viewer instead")
    .option('--width <columns>', 'draw it this many columns wide', (value) => {
      try {
        return parseWidth(value);
      } catch {
        throw new InvalidArgumentError('a number of columns from 1 to 1000');
      }
    })
    .option('--json', JSON_HELP)
    .addHelpText(
      'after',
      examples(
        'sisp display alice/sunset',
        'sisp display sunset --width 60',
        'sisp display sunset --open',
      ) +
        '\nColour follows the terminal: COLORTERM=truecolor for 24-bit, a TERM with 256color for\n' +
        '256 colours, NO_COLOR for characters only; TERM=dumb or a pipe prints the metadata.\n',
    )
    .action(async (image: string, options: { open?: boolean; width?: number; json?: boolean }) => {
      const context = globals();
      const { commandDisplay } = await import('./show.js');
      await withClient(context, (client) =>
        commandDisplay(client, context.home, output, image, { ...options, signal, env: run.env }),
      );
    });
  program
    .command('list')
    .description('images you may see')
    .option('--thumbnails', "on a terminal, show each image's thumbnail (verified) beside it")
    .option('--json', JSON_HELP)
    .addHelpText(
      'after',
      examples('sisp list', 'sisp list --thumbnails', "sisp list --json | jq -r '.images[].name'"),
    )
    .action(async (options: { json?: boolean; thumbnails?: boolean }) => {
      const [{ listImages }, { formatList, listJson }] = await Promise.all([
        import('../core/catalogue.js'),
        import('./listing.js'),
      ]);
      await withClient(globals(), async (client) => {
        const images = await listImages(client);
        if (options.thumbnails === true && options.json !== true) {
          const { listWithThumbnails } = await import('./gallery.js');
          output.out.write(await listWithThumbnails(client, images, output, run.env));
          return;
        }
        output.out.write(options.json === true ? listJson(images) : formatList(images));
      });
    });
  program
    .command('delete <image>')
    .description('delete one of your images: gone from every list; downloads of it end')
    .option('--json', JSON_HELP)
    .addHelpText('after', examples('sisp delete sunset', 'sisp delete "beach day" --json'))
    .action(async (image: string, options: { json?: boolean }) => {
      const { deleteImage } = await import('../core/manage.js');
      await withClient(globals(), async (client) => {
        const deleted = await deleteImage(client, image);
        output.out.write(
          options.json === true
            ? jsonLine({ owner: deleted.owner, name: deleted.name, image: toHex(deleted.image) })
            : `deleted ${quoteReference(deleted.owner, deleted.name)}\n`,
        );
      });
    });
  program
    .command('share <image>')
    .description('let more users see one of your private images (or --public: everyone)')
    .option('--to <users>', 'comma-separated users to give a key to, each under a grant you sign')
    .option('--public', 'make it public: re-keyed as a new version that everyone can see')
    .option('--json', JSON_HELP)
    .addHelpText(
      'after',
      examples('sisp share sunset --to bob,carol', 'sisp share sunset --public'),
    )
    .action(async (image: string, options: { to?: string; public?: boolean; json?: boolean }) => {
      const context = globals();
      const to = recipients(options.to);
      const { commandShare } = await import('./share.js');
      await withClient(context, (client) =>
        commandShare(client, context.home, output, image, {
          ...(to === undefined ? {} : { to }),
          public: options.public === true,
          json: options.json === true,
          signal,
        }),
      );
    });
  program
    .command('unshare <image>')
    .description("withdraw users' access to one of your images at once (--rekey: a new key too)")
    .option('--from <users>', 'comma-separated users whose access is withdrawn')
    .option('--rekey', 'also re-encrypt under a new key for those who remain (a new version)')
    .option('--public', 'make a public image private: re-keyed for you (and --to users) only')
    .option('--to <users>', 'with --public: who may still see it')
    .option('--json', JSON_HELP)
    .addHelpText(
      'after',
      examples(
        'sisp unshare sunset --from bob',
        'sisp unshare sunset --from bob --rekey',
        'sisp unshare sunset --public --to carol',
      ) +
        '\nWithdrawing stops the server serving it to them at once. A copy they already\n' +
        'downloaded stays with them; --rekey keeps them out of the new version even if\n' +
        'they kept their old key and the server helps them.\n',
    )
    .action(
      async (
        image: string,
        options: { from?: string; rekey?: boolean; public?: boolean; to?: string; json?: boolean },
      ) => {
        const context = globals();
        const from = recipients(options.from);
        const to = recipients(options.to);
        const { commandUnshare } = await import('./share.js');
        await withClient(context, (client) =>
          commandUnshare(client, context.home, output, image, {
            ...(from === undefined ? {} : { from }),
            ...(to === undefined ? {} : { to }),
            public: options.public === true,
            rekey: options.rekey === true,
            json: options.json === true,
            signal,
          }),
        );
      },
    );
  program
    .command('usage')
    .description('what you store on the server, against what it allows')
    .option('--json', JSON_HELP)
    .addHelpText('after', examples('sisp usage', 'sisp usage --json'))
    .action(async (options: { json?: boolean }) => {
      const { usage } = await import('../core/manage.js');
      const { formatUsage } = await import('./usage.js');
      await withClient(globals(), async (client) => {
        output.out.write(formatUsage(await usage(client), options.json === true));
      });
    });
  program
    .command('watch')
    .description(
      'print NEW_IMAGE <name> <owner> for each new image (DELETED when one goes), until interrupted',
    )
    .option('--json', 'print each event as one JSON line (shape in docs/CLI.md)')
    .addHelpText('after', examples('sisp watch', 'sisp watch --json'))
    .action(async (options: { json?: boolean }) => {
      const { commandWatch } = await import('./watch.js');
      await commandWatch(globals(), output, signal, { json: options.json === true });
    });
}

function addKeyCommands(program: Command, run: Run, globals: () => CliContext): void {
  const { output } = run;
  program
    .command('cert [username]')
    .description(
      "a user's certificate (PEM on stdout, verified against the CA; fingerprint on stderr)",
    )
    .option('--json', JSON_HELP)
    .addHelpText('after', examples('sisp cert', 'sisp cert bob > bob.pem'))
    .action(async (username: string | undefined, options: { json?: boolean }) => {
      const { commandCert } = await commands();
      await withClient(globals(), (client) =>
        commandCert(client, output, username, { json: options.json === true }),
      );
    });
  program
    .command('whoami')
    .description('your username, server, key fingerprint and the CA fingerprint (offline)')
    .option('--json', JSON_HELP)
    .addHelpText('after', examples('sisp whoami', 'sisp whoami --json'))
    .action(async (options: { json?: boolean }) => {
      const { commandWhoami } = await import('./keys.js');
      await commandWhoami(globals(), output, options);
    });
  const pins = program
    .command('pins')
    .description('the keys pinned for other users (first seen, then held to)')
    .option('--json', JSON_HELP)
    .addHelpText('after', examples('sisp pins', "sisp pins accept bob '12345 67890 ...'"))
    .action(async (options: { json?: boolean }) => {
      const { commandPins } = await import('./keys.js');
      await commandPins(globals(), output, options);
    });
  pins
    .command('accept <username> <fingerprint>')
    .description("pin a user's new key, only if the fingerprint typed is the new key's")
    .option('--json', JSON_HELP)
    .addHelpText(
      'after',
      examples("sisp pins accept bob '31415 92653 58979 32384 62643 38327 95028 84197'") +
        '\nAsk them for their fingerprint (sisp whoami) by another channel than sisp first.\n',
    )
    .action(async (username: string, fingerprint: string, options: { json?: boolean }) => {
      const { commandPinsAccept } = await import('./keys.js');
      await commandPinsAccept(globals(), output, username, fingerprint, options);
    });
  program
    .command('passphrase')
    .description('add, change or remove the passphrase that protects your keys')
    .option('--remove', 'store the keys without a passphrase')
    .addHelpText(
      'after',
      examples('sisp passphrase', 'SISP_PASSPHRASE=old SISP_NEW_PASSPHRASE=new sisp passphrase') +
        '\nWithout a terminal, the current passphrase comes from SISP_PASSPHRASE and the new one\nfrom SISP_NEW_PASSPHRASE.\n',
    )
    .action(async (options: { remove?: boolean }) => {
      const { commandPassphrase } = await import('./keys.js');
      await commandPassphrase(globals(), output, run.terminal, {
        ...options,
        ...(run.newPassphrase === undefined ? {} : { newPassphrase: run.newPassphrase }),
      });
    });
  addIdentityCommands(program, run, globals);
}

function addIdentityCommands(program: Command, run: Run, globals: () => CliContext): void {
  program
    .command('export <file>')
    .description('write your identity (server, CA, keys sealed under a passphrase) to a file')
    .option('--force', 'replace the file if it exists')
    .addHelpText(
      'after',
      examples('sisp export alice.sisp-identity') +
        '\nKeys with a passphrase are exported under it; others need one (asked, or\nSISP_NEW_PASSPHRASE). Import it with sisp import or in the browser app.\n',
    )
    .action(async (file: string, options: { force?: boolean }) => {
      const { commandExport } = await import('./identity.js');
      await commandExport(globals(), run.output, run.terminal, file, {
        ...options,
        ...(run.newPassphrase === undefined ? {} : { newPassphrase: run.newPassphrase }),
      });
    });
  program
    .command('import <file>')
    .description('use an identity file (from sisp export or the browser app) in this home')
    .addHelpText(
      'after',
      examples(
        'sisp import alice.sisp-identity',
        'sisp --home ~/other import alice.sisp-identity',
      ) +
        "\nThe file's passphrase is asked for (or SISP_PASSPHRASE) and stays the keys' passphrase.\n",
    )
    .action(async (file: string) => {
      const { commandImport } = await import('./identity.js');
      await commandImport(globals(), run.output, run.terminal, file);
    });
  const web = program
    .command('web')
    .description('the browser app a server hands out')
    .addHelpText('after', examples('sisp web verify https://photos.example:8443/'));
  web
    .command('verify <url>')
    .description("check that a server's browser app is this release's (digest and CSP)")
    .option('--json', JSON_HELP)
    .addHelpText(
      'after',
      examples(
        'sisp web verify https://photos.example:8443/',
        'sisp web verify wss://127.0.0.1:8443/ --json',
      ) + '\nExit status 1 with E_TAMPERED when it is not: do not use that page.\n',
    )
    .action(async (url: string, options: { json?: boolean }) => {
      const { commandWebVerify } = await import('./web-verify.js');
      await commandWebVerify(globals(), run.output, url, options);
    });
}

export function buildProgram(run: Run): Command {
  const program = new Command('sisp')
    .description('secure image sharing: encrypt, sign, share, verify, decrypt')
    .version(VERSION, '-V, --version', 'print the version')
    .option('--home <dir>', 'client state directory (env SISP_HOME; default $XDG_CONFIG_HOME/sisp)')
    .option('--server <url>', 'server address, wss://HOST:PORT/ (env SISP_SERVER)')
    .option('--ca <file>', "the server's CA certificate, DATA/ca.pem (env SISP_CA)")
    .helpOption('-h, --help', 'show help')
    .helpCommand('help [command]', 'show help for a command')
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .exitOverride()
    .configureOutput({
      writeErr: (text) => run.output.err.write(text),
      writeOut: (text) => run.output.out.write(text),
    })
    .showSuggestionAfterError()
    .addHelpText(
      'after',
      examples(
        'sisp register alice --server wss://photos.example:8443/ --ca ca.pem',
        'sisp post sunset sunset.jpg',
        'sisp list',
        'sisp                    (no command: the interactive prompt)',
      ) + '\nExit status: 0 done, 1 failed, 2 usage error, 130 interrupted.\n',
    );
  const globals = (): CliContext =>
    cliContext(program.opts<GlobalOptions>(), run.env, run.passphrase);

  program.command('serve').description('run the server (see sisp serve --help)').helpOption(false);
  program
    .command('register <username>')
    .description('make keys, register with the server, store the keys (mode 0600)')
    .addHelpText(
      'after',
      examples('sisp register alice --server wss://photos.example:8443/ --ca ca.pem') +
        '\nThe operator gives you the address and ca.pem; compare the CA fingerprint they read\nyou with sisp whoami afterwards.\n',
    )
    .action(async (username: string) => {
      await register(run, globals(), username);
    });
  addImageCommands(program, run, globals);
  addAlbumCommands(program, run, globals);
  addLinkCommands(program, run, globals);
  addKeyCommands(program, run, globals);
  program
    .command('completion <shell>')
    .description(`print a shell completion script (${SHELLS.join(', ')})`)
    .addHelpText(
      'after',
      examples(
        'eval "$(sisp completion bash)"          # in ~/.bashrc',
        'sisp completion zsh > "${fpath[1]}/_sisp"',
        'sisp completion fish > ~/.config/fish/completions/sisp.fish',
      ),
    )
    .action((shell: string) => {
      run.output.out.write(completionScript(program, shell));
    });
  return program;
}
