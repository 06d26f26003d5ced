/**
 * Albums in the page: the ones you own and the ones shared with you, each checked
 * (every membership and placement signed by its owner) before it is shown; the
 * owner's changes are signed here, as `sisp album` signs them.
 */
import { h, type ComponentChild } from 'preact';
import { signal } from '@preact/signals';
import {
  addToAlbum,
  createAlbum,
  listAlbums,
  removeFromAlbum,
  shareAlbum,
  showAlbum,
  unshareAlbum,
  type AlbumSummary,
} from '../../src/core/albums.js';
import type { SispClient } from '../../src/core/client.js';
import { toHex } from '../../src/protocol/bytes.js';
import { actionForm, listOf, perform } from './actions.js';
import { inWords } from './session.js';
import { error } from './state.js';

export const albums = signal<readonly AlbumSummary[]>([]);
/** The album the gallery shows, or undefined for every image. */
export const albumShown = signal<{ title: string; ids: ReadonlySet<string> } | undefined>(
  undefined,
);

export async function refreshAlbums(current: SispClient): Promise<void> {
  try {
    albums.value = await listAlbums(current);
    const shown = albumShown.value;
    if (shown !== undefined) await show(current, shown.title);
  } catch (failure) {
    error.value = inWords(failure);
  }
}

async function show(current: SispClient, title: string): Promise<void> {
  const { images } = await showAlbum(current, title);
  albumShown.value = { title, ids: new Set(images.map((image) => toHex(image.image))) };
}

function ownerForms(current: SispClient, album: AlbumSummary): ComponentChild {
  const after = () => refreshAlbums(current);
  const name = album.name;
  return h('details', { class: 'manage' }, [
    h('summary', null, `Manage album ${name}`),
    actionForm({
      label: `Add your images to ${name} (names, comma-separated)`,
      button: 'Add',
      buttonName: `Add to ${name}`,
      act: async (value) =>
        `Added ${(await addToAlbum(current, name, listOf(value))).added} to ${name}.`,
      after,
    }),
    actionForm({
      label: `Remove images from ${name}`,
      button: 'Remove',
      buttonName: `Remove from ${name}`,
      act: async (value) =>
        `Removed ${(await removeFromAlbum(current, name, listOf(value))).removed} from ${name}.`,
      after,
    }),
    actionForm({
      label: `Share ${name} with (comma-separated)`,
      button: 'Share',
      buttonName: `Share album ${name}`,
      act: async (value) =>
        `Shared ${name} with ${(await shareAlbum(current, name, listOf(value))).added.join(', ') || 'no one new'}.`,
      after,
    }),
    actionForm({
      label: `Take ${name} back from`,
      button: 'Unshare',
      buttonName: `Unshare album ${name}`,
      act: async (value) =>
        `Taken ${name} back from ${(await unshareAlbum(current, name, listOf(value))).removed.join(', ') || 'no one'}.`,
      after,
    }),
  ]);
}

function albumItem(current: SispClient, album: AlbumSummary): ComponentChild {
  const title = `${album.owner}/${album.name}`;
  return h('li', { key: title, 'data-album': title }, [
    h('strong', null, album.name),
    ` by ${album.owner} · ${album.images} images · ${album.members} members `,
    h(
      'button',
      {
        type: 'button',
        'aria-label': `Show album ${title}`,
        onClick: () =>
          void perform(async () => {
            await show(current, title);
            return `Showing the album ${title}: every membership and placement verified.`;
          }),
      },
      'Show',
    ),
    album.owner === current.username ? ownerForms(current, album) : null,
  ]);
}

export function albumsView(current: SispClient): ComponentChild {
  return h('section', { 'aria-label': 'Albums' }, [
    h('h2', null, `Albums (${albums.value.length})`),
    h(
      'ul',
      { class: 'albums' },
      albums.value.map((album) => albumItem(current, album)),
    ),
    actionForm({
      label: 'New album name',
      button: 'Create album',
      act: async (value) => {
        await createAlbum(current, value);
        return `Made the album ${value}.`;
      },
      after: () => refreshAlbums(current),
    }),
  ]);
}
