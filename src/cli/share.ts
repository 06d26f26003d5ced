/**
 * `sisp share` and `sisp unshare`: more readers, fewer readers, and re-keying (a new
 * version of the image under a new content key, replacing the old in place), which
 * is also how a public image becomes private and a private one public.
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ListedImage } from '../core/catalogue.js';
import type { SispClient } from '../core/client.js';
import { downloadImage } from '../core/download.js';
import type { PostResult } from '../core/post.js';
import { grantHolders, ownImage, shareImage, unshareImage } from '../core/sharing.js';
import { FileSink } from '../client/file-sink.js';
import type { Home } from '../client/home.js';
import { toHex } from '../protocol/bytes.js';
import { sispError } from '../protocol/errors.js';
import { expected, postFile, type CommandOptions } from './commands.js';
import { jsonLine, quoteReference, type Output } from './output.js';

/**
 * Downloads your image (verified) to a private spool folder and posts it again under
 * a new content key for `audience`, replacing the old version in one transaction.
 */
async function rekey(
  client: SispClient,
  home: Home,
  image: ListedImage,
  audience: 'public' | readonly string[],
  signal: AbortSignal | undefined,
): Promise<PostResult> {
  const spool = join(home.dir, 'cache', `.rekey-${randomBytes(8).toString('hex')}`);
  try {
    const copy = await downloadImage(client, expected(image), new FileSink(spool), {
      ...(signal === undefined ? {} : { signal }),
    });
    return await postFile(client, {
      name: image.name,
      path: copy.result,
      replace: true,
      ...(audience === 'public'
        ? {}
        : { to: audience.length === 0 ? [client.username] : [...audience] }),
      ...(signal === undefined ? {} : { signal }),
    });
  } finally {
    await rm(spool, { recursive: true, force: true });
  }
}

function describe(audience: PostResult['audience'], client: SispClient): string {
  if (audience === 'public') return 'everyone';
  const others = audience.filter((user) => user !== client.username);
  return others.length === 0 ? 'only you' : others.join(', ');
}

/**
 * A public image made private (to `audience`, or only you), or a private one public:
 * re-keyed as a new version, because the server held a wrap of a public image's key.
 */
async function changeAudience(
  client: SispClient,
  home: Home,
  output: Output,
  reference: string,
  audience: 'public' | readonly string[],
  options: CommandOptions,
): Promise<void> {
  const image = await ownImage(client, reference);
  if ((image.audience === 'public') === (audience === 'public'))
    throw sispError(
      'E_BAD_REQUEST',
      `${image.name} is ${image.audience === 'public' ? 'already public' : 'not public'}`,
    );
  const posted = await rekey(client, home, image, audience, options.signal);
  const now =
    posted.audience === 'public' ? 'public' : `private to ${describe(posted.audience, client)}`;
  output.out.write(
    options.json === true
      ? jsonLine({
          owner: client.username,
          name: posted.name,
          image: toHex(posted.image),
          audience: posted.audience,
          rekeyed: true,
        })
      : `${quoteReference(client.username, posted.name)} is now ${now} (re-keyed as a new version)\n`,
  );
}

export interface ShareOptions extends CommandOptions {
  readonly to?: readonly string[];
  readonly public?: boolean;
}

export async function commandShare(
  client: SispClient,
  home: Home,
  output: Output,
  reference: string,
  options: ShareOptions,
): Promise<void> {
  if (options.public === true) {
    await changeAudience(client, home, output, reference, 'public', options);
    return;
  }
  if (options.to === undefined)
    throw sispError('E_BAD_REQUEST', 'say who to share with: --to a,b (or --public)');
  const shared = await shareImage(client, reference, options.to);
  output.out.write(
    options.json === true
      ? jsonLine({
          owner: client.username,
          name: shared.image.name,
          image: toHex(shared.image.image),
          recipients: shared.recipients,
        })
      : `shared ${quoteReference(client.username, shared.image.name)} with ${shared.recipients.join(', ')}\n`,
  );
}

export interface UnshareOptions extends CommandOptions {
  readonly from?: readonly string[];
  readonly public?: boolean;
  readonly rekey?: boolean;
  /** With --public: who may still see it. */
  readonly to?: readonly string[];
}

export async function commandUnshare(
  client: SispClient,
  home: Home,
  output: Output,
  reference: string,
  options: UnshareOptions,
): Promise<void> {
  const shown = (image: ListedImage) => quoteReference(client.username, image.name);
  if (options.public === true) {
    await changeAudience(client, home, output, reference, options.to ?? [], options);
    return;
  }
  if (options.from === undefined)
    throw sispError('E_BAD_REQUEST', 'say whose access to withdraw: --from a,b (or --public)');
  const { image, withdrawn } = await unshareImage(client, reference, options.from);
  let posted: PostResult | undefined;
  if (options.rekey === true)
    posted = await rekey(client, home, image, await grantHolders(client, image), options.signal);
  if (options.json === true) {
    output.out.write(
      jsonLine({
        owner: client.username,
        name: image.name,
        image: toHex(posted?.image ?? image.image),
        withdrawn,
        rekeyed: posted !== undefined,
        ...(posted === undefined ? {} : { audience: posted.audience }),
      }),
    );
    return;
  }
  const who =
    withdrawn.length === 0
      ? 'nobody had access to withdraw'
      : `withdrawn from ${withdrawn.join(', ')}`;
  output.out.write(
    `${shown(image)}: ${who}` +
      (posted === undefined
        ? '\n'
        : `; re-keyed as a new version for ${describe(posted.audience, client)}\n`),
  );
}
