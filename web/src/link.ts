/** Opening a link in the page, without an account: checked by the secret in the fragment. */
import { h, type ComponentChild } from 'preact';
import { signal } from '@preact/signals';
import { fetchLinkFetcher } from '../../src/web/fetch-link-fetcher.js';
import { openLink } from '../../src/core/links.js';
import { blobSink } from '../../src/web/blob-sink.js';
import { isSispError } from '../../src/protocol/errors.js';
import { inWords } from './session.js';

const opened = signal<{ title: string; url: string; detail: string } | undefined>(undefined);
const needsPassphrase = signal(false);
const failure = signal('');

export async function openHere(passphrase?: string): Promise<void> {
  failure.value = '';
  try {
    const done = await openLink(fetchLinkFetcher, location.href, blobSink(), {
      ...(passphrase === undefined ? {} : { passphrase: () => Promise.resolve(passphrase) }),
    });
    const { manifest } = done;
    opened.value = {
      title: `${manifest.owner}/${manifest.name}`,
      url: URL.createObjectURL(done.result),
      detail: `Verified: signed by ${manifest.owner} (key ${done.ownerFingerprint}), every chunk checked.`,
    };
  } catch (error) {
    if (isSispError(error, 'E_PASSPHRASE') && passphrase === undefined)
      needsPassphrase.value = true;
    else failure.value = inWords(error);
  }
}

export function linkView(): ComponentChild {
  const shown = opened.value;
  return h('section', { 'aria-label': 'Shared link' }, [
    h('h1', null, 'A shared image'),
    failure.value === '' ? null : h('p', { class: 'error', role: 'alert' }, failure.value),
    needsPassphrase.value && shown === undefined
      ? h(
          'form',
          {
            onSubmit: (event: Event) => {
              event.preventDefault();
              const input = (event.currentTarget as HTMLFormElement).elements.namedItem(
                'passphrase',
              );
              void openHere((input as HTMLInputElement).value);
            },
          },
          [
            h('label', null, [
              'Passphrase (from whoever sent the link)',
              h('input', { type: 'password', name: 'passphrase', required: true }),
            ]),
            h('button', { type: 'submit' }, 'Open'),
          ],
        )
      : null,
    shown === undefined
      ? null
      : h('figure', { class: 'viewer' }, [
          h('img', { src: shown.url, alt: shown.title }),
          h('figcaption', null, [
            shown.title,
            ' · ',
            h('span', { class: 'verified' }, shown.detail),
          ]),
          h('a', { href: shown.url, download: shown.title.replace('/', '-') }, 'Save'),
        ]),
  ]);
}
