/** The gallery: what the user may see, thumbnails, live updates, opening and saving. */
import { h, type ComponentChild } from 'preact';
import { listImages, type ListedImage } from '../../src/core/catalogue.js';
import type { SispClient } from '../../src/core/client.js';
import { downloadImage } from '../../src/core/download.js';
import { fetchThumbnails } from '../../src/core/thumbnails.js';
import { toHex } from '../../src/protocol/bytes.js';
import { blobSink } from '../../src/web/blob-sink.js';
import { albumShown } from './albums.js';
import { blobUrl } from './images.js';
import { manageControls } from './manage.js';
import { inWords } from './session.js';
import { error, images, keyWarnings, notice, thumbnails, viewing } from './state.js';

const EXTENSIONS: Record<string, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/gif': 'gif',
  'image/webp': 'webp',
};

/** Lists again and opens the thumbnails not opened yet. */
export async function refresh(current: SispClient): Promise<void> {
  try {
    const warnings = new Map<string, string>();
    let hidden = 0;
    // One user's changed key is a loud warning and hides their images, not everyone's.
    const listed = await listImages(current, {
      onKeyChanged: (owner, failure) => warnings.set(owner, inWords(failure)),
      onTampered: (failure) => {
        hidden += 1;
        warnings.set(
          '',
          `${hidden} image(s) failed verification and are hidden. ${inWords(failure)}`,
        );
      },
    });
    keyWarnings.value = warnings;
    images.value = listed;
    const missing = listed.filter((image) => !thumbnails.value.has(toHex(image.image)));
    if (missing.length === 0) return;
    const opened = await fetchThumbnails(current, missing);
    const next = new Map(thumbnails.value);
    for (const [id, bytes] of opened) next.set(id, blobUrl(bytes, 'image/webp'));
    thumbnails.value = next;
  } catch (failure) {
    error.value = inWords(failure);
  }
}

function fileNameOf(image: ListedImage): string {
  return `${image.name}.${EXTENSIONS[image.contentType] ?? 'img'}`;
}

/** Downloads, verifies and decrypts into a Blob, saying how far it has come. */
async function fetchVerified(current: SispClient, image: ListedImage) {
  const title = `${image.owner}/${image.name}`;
  const ref = { image: image.image, owner: image.owner, name: image.name };
  return downloadImage(current, ref, blobSink(), {
    onProgress: (received, total) => {
      notice.value = `Downloading ${title}: ${Math.floor((received / Math.max(total, 1)) * 100)}%`;
    },
  });
}

function verifiedNotice(image: ListedImage, fingerprint: string): string {
  return `Verified: ${image.owner}'s certificate, key (${fingerprint}), signature and every chunk.`;
}

async function open(current: SispClient, image: ListedImage): Promise<void> {
  error.value = '';
  notice.value = `Opening ${image.owner}/${image.name}…`;
  try {
    const done = await fetchVerified(current, image);
    const previous = viewing.value;
    if (previous !== undefined) URL.revokeObjectURL(previous.url);
    viewing.value = {
      title: `${image.owner}/${image.name}`,
      url: URL.createObjectURL(done.result),
      fileName: fileNameOf(image),
    };
    notice.value = verifiedNotice(image, done.ownerFingerprint);
  } catch (failure) {
    notice.value = '';
    error.value = inWords(failure);
  }
}

/** Downloads verified, then hands the file to the browser to save; nothing is saved unverified. */
async function save(current: SispClient, image: ListedImage): Promise<void> {
  error.value = '';
  try {
    const done = await fetchVerified(current, image);
    const url = URL.createObjectURL(done.result);
    const anchor = document.createElement('a');
    anchor.href = url;
    anchor.download = fileNameOf(image);
    anchor.click();
    // The browser has taken the file once the click is handled.
    setTimeout(() => {
      URL.revokeObjectURL(url);
    }, 60_000);
    notice.value = `Saved ${fileNameOf(image)}. ${verifiedNotice(image, done.ownerFingerprint)}`;
  } catch (failure) {
    notice.value = '';
    error.value = inWords(failure);
  }
}

function audience(image: ListedImage): string {
  return image.audience === 'public' ? 'everyone' : image.audience.join(', ');
}

function card(current: SispClient, image: ListedImage): ComponentChild {
  const id = toHex(image.image);
  const thumbnail = thumbnails.value.get(id);
  const title = `${image.owner}/${image.name}`;
  return h('li', { key: id, 'data-image': title }, [
    thumbnail === undefined
      ? h('p', { class: 'muted' }, 'no thumbnail')
      : h('img', { src: thumbnail, alt: `${image.name} by ${image.owner}` }),
    h('h3', null, image.name),
    h('p', null, [
      `by ${image.owner} · ${new Date(image.created).toLocaleString()} · to ${audience(image)} · `,
      h('span', { class: 'verified', title: `owner key ${image.ownerFingerprint}` }, '✓ verified'),
    ]),
    h(
      'button',
      { type: 'button', onClick: () => void open(current, image), 'aria-label': `Open ${title}` },
      'Open',
    ),
    h(
      'button',
      {
        type: 'button',
        onClick: () => void save(current, image),
        'aria-label': `Download ${title}`,
      },
      'Download',
    ),
    manageControls(current, image, () => refresh(current)),
  ]);
}

function viewer(): ComponentChild {
  const shown = viewing.value;
  if (shown === undefined) return null;
  return h('section', { class: 'viewer', 'aria-label': shown.title }, [
    h('h2', null, shown.title),
    h('img', { src: shown.url, alt: shown.title }),
    h('p', null, [
      h('a', { href: shown.url, download: shown.fileName }, 'Save'),
      ' ',
      h(
        'button',
        {
          type: 'button',
          onClick: () => {
            URL.revokeObjectURL(shown.url);
            viewing.value = undefined;
          },
        },
        'Close',
      ),
    ]),
  ]);
}

function heading(count: number): ComponentChild {
  const album = albumShown.value;
  if (album === undefined) return h('h2', null, `Images you may see (${count})`);
  return h('h2', null, [
    `Album ${album.title} (${count}) `,
    h(
      'button',
      { type: 'button', onClick: () => (albumShown.value = undefined) },
      'Show all images',
    ),
  ]);
}

export function galleryView(current: SispClient): ComponentChild {
  const album = albumShown.value;
  const listed =
    album === undefined
      ? images.value
      : images.value.filter((image) => album.ids.has(toHex(image.image)));
  return h('section', { 'aria-label': 'Gallery' }, [
    viewer(),
    heading(listed.length),
    listed.length === 0
      ? h('p', { class: 'muted' }, 'No images yet.')
      : h(
          'ul',
          { class: 'gallery' },
          listed.map((image) => card(current, image)),
        ),
  ]);
}
