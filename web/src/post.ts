/** Posting from the page: files picked or dropped, each with its progress and a cancel. */
import { h, type ComponentChild } from 'preact';
import type { SispClient } from '../../src/core/client.js';
import { postImage } from '../../src/core/post.js';
import { streamSource } from '../../src/core/source.js';
import { normalizeImageName } from '../../src/protocol/names.js';
import { contentTypeOf, makeThumbnail, nameOf } from './images.js';
import { refresh } from './gallery.js';
import { inWords } from './session.js';
import { images, uploads, type Upload } from './state.js';

function update(name: string, change: Partial<Upload>): void {
  uploads.value = uploads.value.map((upload) =>
    upload.name === name ? { ...upload, ...change } : upload,
  );
}

async function postOne(current: SispClient, file: File, to: string[] | undefined): Promise<void> {
  const controller = new AbortController();
  let name = nameOf(file);
  try {
    name = normalizeImageName(name);
  } catch {
    name = `image-${Date.now()}`;
  }
  const entry: Upload = {
    name,
    sent: 0,
    total: file.size,
    state: 'sending',
    cancel: () => {
      controller.abort();
    },
  };
  uploads.value = [...uploads.value.filter((upload) => upload.name !== name), entry];
  const type = contentTypeOf(file);
  try {
    if (type === undefined) throw new Error('not a JPEG, PNG, GIF or WebP image');
    const thumbnail = await makeThumbnail(file);
    await postImage(current, {
      name,
      source: streamSource(() => file.stream(), file.size, type),
      ...(to === undefined ? {} : { to }),
      ...(thumbnail === undefined ? {} : { thumbnail }),
      signal: controller.signal,
      onProgress: (sent, total) => {
        update(name, { sent, total });
      },
    });
    update(name, { state: 'done', sent: file.size });
    await refresh(current);
  } catch (failure) {
    const cancelled = controller.signal.aborted;
    update(name, {
      state: cancelled ? 'cancelled' : 'failed',
      message:
        failure instanceof Error && failure.name === 'Error' ? failure.message : inWords(failure),
    });
  }
}

export function postFiles(current: SispClient, files: readonly File[], toText: string): void {
  const names = toText
    .split(',')
    .map((user) => user.trim())
    .filter((user) => user !== '');
  const to = names.length === 0 ? undefined : names;
  for (const file of files) void postOne(current, file, to);
}

function progress(upload: Upload): ComponentChild {
  const percent = upload.total === 0 ? 100 : Math.floor((upload.sent / upload.total) * 100);
  return h('li', { key: upload.name }, [
    `${upload.name}: `,
    upload.state === 'sending'
      ? h('progress', { max: 100, value: percent, 'aria-label': `${upload.name} sent` })
      : h(
          'span',
          { class: upload.state === 'done' ? '' : 'error' },
          upload.message ?? upload.state,
        ),
    upload.state === 'sending'
      ? h('button', { type: 'button', onClick: upload.cancel }, `Cancel ${upload.name}`)
      : null,
  ]);
}

export function postForm(current: SispClient): ComponentChild {
  const owners = [...new Set(images.value.map((image) => image.owner))].filter(
    (owner) => owner !== current.username,
  );
  return h('section', { 'aria-label': 'Post images' }, [
    h(
      'form',
      {
        class: 'drop',
        onDragOver: (event: DragEvent) => {
          event.preventDefault();
        },
        onDrop: (event: DragEvent) => {
          event.preventDefault();
          const files = [...(event.dataTransfer?.files ?? [])];
          const to = (document.getElementById('post-to') as HTMLInputElement | null)?.value ?? '';
          postFiles(current, files, to);
        },
        onSubmit: (event: Event) => {
          event.preventDefault();
          const form = event.currentTarget as HTMLFormElement;
          const input = form.elements.namedItem('files') as HTMLInputElement;
          const to = (form.elements.namedItem('to') as HTMLInputElement).value;
          postFiles(current, [...(input.files ?? [])], to);
          form.reset();
        },
      },
      [
        h('label', null, [
          'Images (or drop them here)',
          h('input', {
            type: 'file',
            name: 'files',
            accept: 'image/*',
            multiple: true,
            required: true,
          }),
        ]),
        h('label', null, [
          'To (comma-separated; empty for everyone)',
          h('input', {
            type: 'text',
            name: 'to',
            id: 'post-to',
            list: 'known-users',
            autocomplete: 'off',
          }),
        ]),
        h(
          'datalist',
          { id: 'known-users' },
          owners.map((owner) => h('option', { value: owner })),
        ),
        h('button', { type: 'submit' }, 'Post'),
      ],
    ),
    uploads.value.length === 0
      ? null
      : h('ul', { 'aria-label': 'Uploads' }, uploads.value.map(progress)),
  ]);
}
