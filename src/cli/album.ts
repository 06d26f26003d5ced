/**
 * `sisp album ...`: albums you own (create, add, remove, share, unshare) and albums
 * shared with you (list, show). Every membership and image placement is signed by
 * the owner; `show` checks every signature before printing anything.
 */
import type { Command } from 'commander';
import type { AlbumSummary } from '../core/albums.js';
import type { SispClient } from '../core/client.js';
import { sispError } from '../protocol/errors.js';
import { examples, JSON_HELP, recipients, withClient } from './command-kit.js';
import type { CliContext } from './context.js';
import { jsonLine, quoteName, quoteReference, type Output } from './output.js';
import type { Run } from './program.js';

// Loaded when an album command runs, not when the command tree is built (start-up).
const albums = () => import('../core/albums.js');

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

function formatAlbums(albums: readonly AlbumSummary[]): string {
  if (albums.length === 0) return 'no albums yet (sisp album create <album>)\n';
  return albums
    .map(
      (a) =>
        `${quoteReference(a.owner, a.name)}  ${plural(a.images, 'image')}  ${plural(a.members, 'member')}\n`,
    )
    .join('');
}

function report(
  output: Output,
  json: boolean,
  text: string,
  fields: Record<string, unknown>,
): void {
  output.out.write(json ? jsonLine(fields) : text);
}

function needUsers(users: string[] | undefined, flag: string): string[] {
  if (users === undefined || users.length === 0)
    throw sispError('E_BAD_REQUEST', `name the users with ${flag} a,b`);
  return users;
}

type Json = { json?: boolean };

function addMembershipCommands(album: Command, output: Output, globals: () => CliContext): void {
  album
    .command('share <album>')
    .description('let more users see every image in one of your albums, now and added later')
    .option('--to <users>', 'comma-separated users to add')
    .option('--json', JSON_HELP)
    .addHelpText('after', examples('sisp album share holiday --to bob,carol'))
    .action(async (name: string, options: { to?: string } & Json) => {
      const to = needUsers(recipients(options.to), '--to');
      const { shareAlbum } = await albums();
      await withClient(globals(), async (client) => {
        const { album, added } = await shareAlbum(client, name, to);
        const who =
          added.length === 0 ? 'they were members already' : `shared with ${added.join(', ')}`;
        report(output, options.json === true, `${quoteName(album.name)}: ${who}\n`, {
          album: album.name,
          added,
        });
      });
    });
  album
    .command('unshare <album>')
    .description('take one of your albums back from users at once')
    .option('--from <users>', 'comma-separated users to remove')
    .option('--json', JSON_HELP)
    .addHelpText(
      'after',
      examples('sisp album unshare holiday --from bob') +
        '\nThe server stops serving the album to them at once. Copies they downloaded stay\nwith them.\n',
    )
    .action(async (name: string, options: { from?: string } & Json) => {
      const from = needUsers(recipients(options.from), '--from');
      const { unshareAlbum } = await albums();
      await withClient(globals(), async (client) => {
        const { album, removed } = await unshareAlbum(client, name, from);
        const who =
          removed.length === 0 ? 'nobody to take back' : `taken back from ${removed.join(', ')}`;
        report(output, options.json === true, `${quoteName(album.name)}: ${who}\n`, {
          album: album.name,
          removed,
        });
      });
    });
}

function addContentCommands(album: Command, output: Output, globals: () => CliContext): void {
  album
    .command('add <album> <images...>')
    .description('put your images in one of your albums (members see them at once)')
    .option('--json', JSON_HELP)
    .addHelpText('after', examples('sisp album add holiday beach sunset'))
    .action(async (name: string, images: string[], options: Json) => {
      const { addToAlbum } = await albums();
      await withClient(globals(), async (client) => {
        const { added } = await addToAlbum(client, name, images);
        report(
          output,
          options.json === true,
          `${quoteName(name)}: added ${plural(added, 'image')}\n`,
          {
            album: name,
            added,
          },
        );
      });
    });
  album
    .command('remove <album> <images...>')
    .description('take images out of one of your albums (the images stay yours)')
    .option('--json', JSON_HELP)
    .addHelpText('after', examples('sisp album remove holiday sunset'))
    .action(async (name: string, images: string[], options: Json) => {
      const { removeFromAlbum } = await albums();
      await withClient(globals(), async (client) => {
        const { removed } = await removeFromAlbum(client, name, images);
        report(
          output,
          options.json === true,
          `${quoteName(name)}: removed ${plural(removed, 'image')}\n`,
          {
            album: name,
            removed,
          },
        );
      });
    });
}

async function show(
  client: SispClient,
  output: Output,
  reference: string,
  json: boolean,
): Promise<void> {
  const { showAlbum } = await albums();
  const { formatList, listEntries } = await import('./commands.js');
  const { album, images } = await showAlbum(client, reference);
  if (json) {
    const { name, owner, members } = album;
    output.out.write(jsonLine({ album: name, owner, members, images: listEntries(images) }));
    return;
  }
  output.out.write(
    `${quoteReference(album.owner, album.name)}: ${plural(images.length, 'image')}; members: ${album.members.join(', ')}\n`,
  );
  if (images.length > 0) output.out.write(formatList(images));
}

export function addAlbumCommands(program: Command, run: Run, globals: () => CliContext): void {
  const { output } = run;
  const album = program
    .command('album')
    .description('group images and share the group: one key per album, signed by its owner')
    .addHelpText(
      'after',
      examples(
        'sisp album create holiday',
        'sisp album add holiday beach sunset',
        'sisp album share holiday --to bob',
        'sisp album show alice/holiday',
      ),
    );
  album
    .command('create <album>')
    .description('make a new, empty album of your own')
    .option('--json', JSON_HELP)
    .addHelpText('after', examples('sisp album create holiday'))
    .action(async (name: string, options: Json) => {
      const { createAlbum } = await albums();
      await withClient(globals(), async (client) => {
        await createAlbum(client, name);
        report(output, options.json === true, `created album ${quoteName(name)}\n`, {
          album: name,
        });
      });
    });
  addContentCommands(album, output, globals);
  addMembershipCommands(album, output, globals);
  album
    .command('list')
    .description('the albums you own and the ones shared with you')
    .option('--json', JSON_HELP)
    .addHelpText('after', examples('sisp album list'))
    .action(async (options: Json) => {
      const { listAlbums } = await albums();
      await withClient(globals(), async (client) => {
        const albums = await listAlbums(client);
        output.out.write(options.json === true ? jsonLine({ albums }) : formatAlbums(albums));
      });
    });
  album
    .command('show <album>')
    .description("an album's members and images, every signature checked (owner/album for others')")
    .option('--json', JSON_HELP)
    .addHelpText('after', examples('sisp album show holiday', 'sisp album show alice/holiday'))
    .action(async (reference: string, options: Json) => {
      await withClient(globals(), (client) =>
        show(client, output, reference, options.json === true),
      );
    });
}
