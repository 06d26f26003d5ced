/**
 * The sisp browser app: everything on the isomorphic client core, keys in this
 * browser's IndexedDB, the server being the page's own origin. Served by
 * `sisp serve` as static files under a strict Content-Security-Policy.
 */
import './style.css';
import { h, render, type ComponentChild } from 'preact';
import { IndexedDbStorage } from '../../src/web/indexeddb-storage.js';
import type { SispClient } from '../../src/core/client.js';
import { keyFingerprint, readableFingerprint } from '../../src/crypto/fingerprint.js';
import { ReconnectSchedule } from '../../src/core/reconnect.js';
import { albumsView, refreshAlbums } from './albums.js';
import { pinsView, refreshPins } from './pins.js';
import { galleryView, refresh } from './gallery.js';
import { linkView, openHere } from './link.js';
import { postForm } from './post.js';
import { exportIdentity, importForm, importIdentity } from './identity.js';
import { inWords, register, signIn } from './session.js';
import { client, error, fingerprint, keyWarnings, notice, view } from './state.js';

let storage: IndexedDbStorage | undefined;

async function signedIn(current: SispClient): Promise<void> {
  client.value = current;
  const keys = await current.ownPublicKeys();
  fingerprint.value = readableFingerprint(
    await keyFingerprint(keys.signingKey, keys.encryptionKey),
  );
  // New images appear at once, without reloading.
  current.connection.onEvent = () => {
    void refresh(current)
      .then(() => refreshAlbums(current))
      .then(() => refreshPins(current));
  };
  reconnecting.reset();
  current.connection.onClose(() => {
    reconnect();
  });
  view.value = 'gallery';
  await refresh(current);
  await refreshAlbums(current);
  await refreshPins(current);
}

/** Backing off to 30 s, jittered: a restart drops every open tab at once. */
const reconnecting = new ReconnectSchedule({ first: 1000, max: 30_000 });

/** Signs in again after a lost connection; the lists catch up on success. */
function reconnect(): void {
  error.value = 'The connection to the server was lost; reconnecting…';
  setTimeout(() => {
    if (storage === undefined) return;
    signIn(storage)
      .then(async (next) => {
        if (next === undefined) return;
        error.value = '';
        await signedIn(next);
      })
      .catch(() => {
        reconnect();
      });
  }, reconnecting.next());
}

async function start(): Promise<void> {
  if (location.pathname.startsWith('/l/')) {
    view.value = 'link';
    await openHere();
    return;
  }
  storage = await IndexedDbStorage.open();
  const current = await signIn(storage);
  if (current === undefined) view.value = 'register';
  else await signedIn(current);
}

function registerView(): ComponentChild {
  return h('section', { 'aria-label': 'Register' }, [
    h('h1', null, 'sisp: secure image sharing'),
    h(
      'p',
      null,
      'Choose a username. Your keys are made here, in this browser, and never leave it; the server only ever stores encrypted images.',
    ),
    h(
      'form',
      {
        onSubmit: (event: Event) => {
          event.preventDefault();
          const form = event.currentTarget as HTMLFormElement;
          const field = (name: string): string =>
            (form.elements.namedItem(name) as HTMLInputElement).value;
          error.value = '';
          if (storage === undefined) return;
          notice.value = 'Making your keys…';
          register(storage, field('username'), field('passphrase'))
            .then(signedIn)
            .catch((failure: unknown) => {
              error.value = inWords(failure);
            })
            .finally(() => {
              notice.value = '';
            });
        },
      },
      [
        h('label', null, [
          'Username',
          h('input', { name: 'username', required: true, autocomplete: 'username' }),
        ]),
        h('label', null, [
          'Passphrase for your identity file (optional: without one, these keys never leave this browser)',
          h('input', { type: 'password', name: 'passphrase', autocomplete: 'new-password' }),
        ]),
        h('button', { type: 'submit' }, 'Register'),
      ],
    ),
    importForm((file, passphrase) => {
      void useIdentity(file, passphrase);
    }),
  ]);
}

async function useIdentity(file: File, passphrase: string): Promise<void> {
  if (storage === undefined) return;
  error.value = '';
  notice.value = 'Opening the identity file…';
  try {
    await importIdentity(storage, new Uint8Array(await file.arrayBuffer()), passphrase);
    const current = await signIn(storage);
    if (current !== undefined) await signedIn(current);
    notice.value = '';
  } catch (failure) {
    notice.value = '';
    error.value = inWords(failure);
  }
}

function exportButton(): ComponentChild {
  return h(
    'button',
    {
      type: 'button',
      onClick: () => {
        if (storage === undefined) return;
        exportIdentity(storage)
          .then((name) => {
            notice.value = `Saved ${name}: with its passphrase it is you. Keep it safe.`;
          })
          .catch((failure: unknown) => {
            error.value = inWords(failure);
          });
      },
    },
    'Export identity',
  );
}

function shell(current: SispClient): ComponentChild {
  return h('div', null, [
    h('header', null, [
      h('h1', null, 'sisp'),
      h('p', null, [
        `Signed in as ${current.username} · your key `,
        h('code', null, fingerprint.value),
        ' ',
        exportButton(),
      ]),
    ]),
    postForm(current),
    galleryView(current),
    albumsView(current),
    pinsView(current),
  ]);
}

function App(): ComponentChild {
  const current = client.value;
  let body: ComponentChild;
  if (view.value === 'link') body = linkView();
  else if (view.value === 'register') body = registerView();
  else if (view.value === 'gallery' && current !== undefined) body = shell(current);
  else body = h('p', null, 'Loading sisp…');
  return h('div', null, [
    error.value === '' ? null : h('p', { class: 'error', role: 'alert' }, error.value),
    ...[...keyWarnings.value].map(([user, words]) =>
      h('p', { key: `key-${user}`, class: 'error warning', role: 'alert' }, words),
    ),
    notice.value === '' ? null : h('p', { role: 'status' }, notice.value),
    body,
  ]);
}

const root = document.getElementById('app');
if (root !== null) {
  root.textContent = '';
  render(h(App, null), root);
}
start().catch((failure: unknown) => {
  error.value = inWords(failure);
});
