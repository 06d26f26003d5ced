/**
 * `sisp link`: a URL that opens one of your images for someone without an account
 * (`sisp download URL`, or the browser), with an expiry, a download limit and an
 * optional passphrase; `link list` shows your links and their state, `link revoke`
 * ends one at once. And the download side of a link.
 */
import type { Command } from 'commander';
import type { LinkSummary } from '../core/links.js';
import type { FileSink } from '../client/file-sink.js';
import { sispError } from '../protocol/errors.js';
import { toBase64Url } from '../protocol/link.js';
import { examples, JSON_HELP, withClient } from './command-kit.js';
import type { CliContext } from './context.js';
import { jsonLine, quoteName, type Output } from './output.js';
import { askPassphrase, isInteractive, type Terminal } from './passphrase.js';
import type { Run } from './program.js';

// Loaded when a link command runs, not when the command tree is built (start-up).
const links = () => import('../core/links.js');

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** "7d", "12h", "30m", "2w": how long from now. */
export function parseDuration(text: string): number {
  const match = /^(\d{1,4})([mhdw])$/.exec(text.trim());
  const unit = match?.[2] === undefined ? undefined : UNITS[match[2]];
  if (match === null || unit === undefined || Number(match[1]) === 0)
    throw sispError(
      'E_BAD_REQUEST',
      `--expires takes a time like 30m, 12h, 7d or 2w, not "${text}"`,
    );
  return Number(match[1]) * unit;
}

/** The link's passphrase: SISP_LINK_PASSPHRASE, or asked on the terminal (twice when making one). */
async function linkPassphrase(run: Run, confirm: boolean): Promise<string> {
  const fromEnv = run.env.SISP_LINK_PASSPHRASE;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const terminal: Terminal = run.terminal;
  if (!isInteractive(terminal))
    throw sispError(
      'E_PASSPHRASE',
      'the link needs a passphrase: set SISP_LINK_PASSPHRASE or use a terminal',
    );
  const first = await askPassphrase(terminal, 'link passphrase: ');
  if (first === '') throw sispError('E_PASSPHRASE', 'an empty passphrase protects nothing');
  if (confirm && (await askPassphrase(terminal, 'the same passphrase again: ')) !== first)
    throw sispError('E_PASSPHRASE', 'the two passphrases differ; no link was made');
  return first;
}

function state(link: LinkSummary, now: number): string {
  if (link.revoked) return 'revoked';
  if (link.expires <= now) return 'expired';
  if (link.maxDownloads !== undefined && link.downloads >= link.maxDownloads) return 'used up';
  return 'open';
}

function formatLinks(links: readonly LinkSummary[]): string {
  if (links.length === 0) return 'no links yet (sisp link <name>)\n';
  const now = Date.now();
  return links
    .map((link) => {
      const limit = link.maxDownloads === undefined ? '' : `/${link.maxDownloads}`;
      const expires = new Date(link.expires).toISOString().replace('T', ' ').slice(0, 16);
      const lock = link.passphrase ? '  passphrase' : '';
      return `${toBase64Url(link.link)}  ${quoteName(link.name)}  ${state(link, now)}  downloads ${link.downloads}${limit}  expires ${expires}${lock}\n`;
    })
    .join('');
}

function linksJson(links: readonly LinkSummary[]): string {
  const now = Date.now();
  return jsonLine({
    links: links.map((link) => ({
      id: toBase64Url(link.link),
      name: link.name,
      state: state(link, now),
      downloads: link.downloads,
      maxDownloads: link.maxDownloads ?? null,
      created: new Date(link.created).toISOString(),
      expires: new Date(link.expires).toISOString(),
      passphrase: link.passphrase,
    })),
  });
}

/** `sisp download URL`: no account needed; verified like any download. */
export async function downloadLink(
  run: Run,
  context: CliContext,
  url: string,
  options: { out?: string; force?: boolean; json?: boolean },
): Promise<void> {
  const { output } = run;
  const [{ openLink }, { FileSink }, { httpsLinkFetcher }, { NODE_CRYPTO }, { progressBar }] =
    await Promise.all([
      links(),
      import('../client/file-sink.js'),
      import('../client/https-link-fetcher.js'),
      import('../client/platform.js'),
      import('./progress.js'),
    ]);
  const { downloadTarget } = await import('./commands.js');
  const bar = progressBar(output, 'downloading');
  try {
    let sinkDir: FileSink | undefined;
    const opened = await openLink(
      httpsLinkFetcher,
      url,
      {
        begin: async (image) => {
          const target = await downloadTarget(context.home, image.manifest.owner, options.out);
          sinkDir = new FileSink(target.dir, {
            replace: options.force === true,
            ...(target.fileName === undefined ? {} : { fileName: target.fileName }),
          });
          await sinkDir.begin(image);
        },
        write: (pieces) => (sinkDir ?? failed()).write(pieces),
        commit: () => (sinkDir ?? failed()).commit(),
        abort: () => sinkDir?.abort() ?? Promise.resolve(),
      },
      {
        passphrase: () => linkPassphrase(run, false),
        crypto: NODE_CRYPTO,
        signal: run.signal,
        onProgress: (done, total) => {
          bar.update(done, total);
        },
      },
    );
    bar.stop();
    const { manifest, ownerFingerprint, result } = opened;
    output.out.write(
      options.json === true
        ? jsonLine({
            path: result,
            owner: manifest.owner,
            name: manifest.name,
            type: manifest.type,
            size: manifest.size,
            ownerFingerprint,
          })
        : `${result}\n`,
    );
  } finally {
    bar.stop();
  }
}

function failed(): never {
  throw sispError('E_INTERNAL', 'the download has no file yet');
}

function addLinkSubcommands(link: Command, output: Output, globals: () => CliContext): void {
  link
    .command('list')
    .description('your links: open, expired, used up or revoked, and how often downloaded')
    .option('--json', JSON_HELP)
    .addHelpText('after', examples('sisp link list'))
    .action(async (_options: unknown, command: Command) => {
      // `link` has --json too, and takes it first: read both.
      const json = command.optsWithGlobals<{ json?: boolean }>().json === true;
      const { listLinks } = await links();
      await withClient(globals(), async (client) => {
        const links = await listLinks(client);
        output.out.write(json ? linksJson(links) : formatLinks(links));
      });
    });
  link
    .command('revoke <id>')
    .description('end a link at once (its id from sisp link list, or the whole URL)')
    .addHelpText('after', examples('sisp link revoke 3q2-7wAAAAAAAAAAAAAAAA'))
    // One id in 64 begins with '-' (base64url): taken as the id, not as an option.
    .allowUnknownOption()
    .action(async (id: string) => {
      const { revokeLink } = await links();
      await withClient(globals(), async (client) => {
        await revokeLink(client, id);
        output.out.write('revoked\n');
      });
    });
}

export function addLinkCommands(program: Command, run: Run, globals: () => CliContext): void {
  const { output } = run;
  const link = program
    .command('link')
    .argument('[image]', 'one of your images')
    .description('a URL that opens one of your images without an account (sisp download URL)')
    .option('--expires <time>', 'how long it works: 30m, 12h, 7d (default) or 2w', '7d')
    .option('--max-downloads <n>', 'how many downloads it allows (default: no limit)')
    .option('--passphrase', 'also ask the opener for a passphrase (SISP_LINK_PASSPHRASE)')
    .option('--json', JSON_HELP)
    .addHelpText(
      'after',
      examples(
        'sisp link sunset',
        'sisp link sunset --expires 1d --max-downloads 3 --passphrase',
        'sisp link list',
      ) +
        '\nThe part after # is the key: it never reaches the server. Anyone with the whole URL\n' +
        '(and the passphrase, if set) can open the image until it expires, is used up or revoked.\n',
    )
    .action(
      async (
        image: string | undefined,
        options: { expires: string; maxDownloads?: string; passphrase?: boolean; json?: boolean },
      ) => {
        if (image === undefined)
          throw sispError('E_BAD_REQUEST', 'name one of your images: sisp link <image>');
        const lifetime = parseDuration(options.expires);
        const maxDownloads =
          options.maxDownloads === undefined ? undefined : positive(options.maxDownloads);
        const passphrase =
          options.passphrase === true ? await linkPassphrase(run, true) : undefined;
        const { createLink } = await links();
        await withClient(globals(), async (client) => {
          const made = await createLink(client, image, {
            expires: Date.now() + lifetime,
            ...(maxDownloads === undefined ? {} : { maxDownloads }),
            ...(passphrase === undefined ? {} : { passphrase }),
          });
          output.out.write(
            options.json === true
              ? jsonLine({ url: made.url, id: toBase64Url(made.id), name: made.name })
              : `${made.url}\n`,
          );
        });
      },
    );
  addLinkSubcommands(link, output, globals);
}

function positive(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 1 || n > 1_000_000)
    throw sispError(
      'E_BAD_REQUEST',
      `--max-downloads takes a whole number from 1 to 1000000, not "${text}"`,
    );
  return n;
}
