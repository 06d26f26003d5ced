/**
 * What an owner does with an image from the page, as the CLI's share, unshare,
 * link and delete do: every grant and withdrawal is signed here, with keys the
 * page cannot read out.
 */
import { h, type ComponentChild } from 'preact';
import { signal } from '@preact/signals';
import type { ListedImage } from '../../src/core/catalogue.js';
import type { SispClient } from '../../src/core/client.js';
import { createLink } from '../../src/core/links.js';
import { deleteImage } from '../../src/core/manage.js';
import { shareImage, unshareImage } from '../../src/core/sharing.js';
import { toHex } from '../../src/protocol/bytes.js';
import { actionForm, listOf, perform } from './actions.js';

const LINK_LIFETIME_MS = 7 * 24 * 60 * 60 * 1000;

/** The image (by id) whose deletion waits for a second click. */
const confirmingDelete = signal('');
/** The last link made, to copy: the secret after # exists only here and in that URL. */
const madeLink = signal<{ image: string; url: string } | undefined>(undefined);

function deleteControls(
  current: SispClient,
  image: ListedImage,
  refresh: () => Promise<void>,
): ComponentChild {
  const id = toHex(image.image);
  const title = `${image.owner}/${image.name}`;
  if (confirmingDelete.value !== id)
    return h(
      'button',
      {
        type: 'button',
        onClick: () => (confirmingDelete.value = id),
        'aria-label': `Delete ${title}`,
      },
      'Delete',
    );
  return h('p', { class: 'warning' }, [
    `Delete ${image.name} for everyone? `,
    h(
      'button',
      {
        type: 'button',
        onClick: () => {
          confirmingDelete.value = '';
          void perform(async () => {
            await deleteImage(current, image.name);
            return `Deleted ${image.name}: gone for everyone, and its links ended.`;
          }, refresh);
        },
      },
      `Yes, delete ${title}`,
    ),
    ' ',
    h('button', { type: 'button', onClick: () => (confirmingDelete.value = '') }, 'Keep it'),
  ]);
}

function linkControls(current: SispClient, image: ListedImage): ComponentChild {
  const id = toHex(image.image);
  const made = madeLink.value;
  return h('div', null, [
    h(
      'button',
      {
        type: 'button',
        'aria-label': `Make a link to ${image.owner}/${image.name}`,
        onClick: () =>
          void perform(async () => {
            const link = await createLink(current, image.name, {
              expires: Date.now() + LINK_LIFETIME_MS,
            });
            madeLink.value = { image: id, url: link.url };
            return `A link to ${image.name}, for 7 days: anyone with it can open the image.`;
          }),
      },
      'Make a link',
    ),
    made?.image === id
      ? h('label', null, [
          'Link (copy it; it is not kept anywhere else)',
          h('input', { readOnly: true, value: made.url }),
        ])
      : null,
  ]);
}

/** Share, unshare, link and delete, for the owner's own images. */
export function manageControls(
  current: SispClient,
  image: ListedImage,
  refresh: () => Promise<void>,
): ComponentChild {
  if (image.owner !== current.username) return null;
  const title = `${image.owner}/${image.name}`;
  const isPrivate = image.audience !== 'public';
  return h('details', { class: 'manage' }, [
    h('summary', null, `Manage ${image.name}`),
    isPrivate
      ? actionForm({
          label: `Share ${image.name} with (comma-separated)`,
          button: 'Share',
          buttonName: `Share ${title}`,
          act: async (value) => {
            const done = await shareImage(current, image.name, listOf(value));
            return `Shared ${image.name} with ${done.recipients.join(', ')}.`;
          },
          after: refresh,
        })
      : null,
    isPrivate
      ? actionForm({
          label: `Take ${image.name} back from (comma-separated)`,
          button: 'Unshare',
          buttonName: `Unshare ${title}`,
          act: async (value) => {
            const done = await unshareImage(current, image.name, listOf(value));
            return done.withdrawn.length === 0
              ? `No one named had ${image.name}.`
              : `Taken back from ${done.withdrawn.join(', ')}: copies they already saved stay with them.`;
          },
          after: refresh,
        })
      : null,
    linkControls(current, image),
    deleteControls(current, image, refresh),
  ]);
}
