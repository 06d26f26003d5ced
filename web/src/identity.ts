/**
 * One identity everywhere, from the page: export the identity file (keys sealed
 * under the passphrase chosen at registration; the page cannot read its own
 * private keys otherwise), and use an identity file from `sisp export` or another
 * browser here.
 */
import { h, type ComponentChild } from 'preact';
import {
  decodeIdentityFile,
  encodeIdentityFile,
  IDENTITY_FILE_SUFFIX,
} from '../../src/crypto/identity-file.js';
import { openKeystore } from '../../src/crypto/keystore.js';
import { sispError } from '../../src/protocol/errors.js';
import type { IndexedDbStorage } from '../../src/web/indexeddb-storage.js';
import { serverUrl } from './session.js';

/** Saves this browser's identity file; E_PASSPHRASE if none was sealed at registration. */
export async function exportIdentity(storage: IndexedDbStorage): Promise<string> {
  const keys = await storage.readKeyFile();
  const ca = await storage.readCa();
  const config = await storage.readConfig();
  if (keys === undefined || ca === undefined || config === undefined)
    throw sispError(
      'E_PASSPHRASE',
      'no passphrase was chosen for these keys when they were made, so they cannot leave this browser',
    );
  const { username } = await storage.loadIdentity();
  const file = encodeIdentityFile({ server: config.server, ca, keys });
  const url = URL.createObjectURL(new Blob([new Uint8Array(file)]));
  const anchor = document.createElement('a');
  anchor.href = url;
  anchor.download = `${username}${IDENTITY_FILE_SUFFIX}`;
  anchor.click();
  setTimeout(() => {
    URL.revokeObjectURL(url);
  }, 60_000);
  return anchor.download;
}

/** Takes an identity file for this server; nothing is stored unless it opens. */
export async function importIdentity(
  storage: IndexedDbStorage,
  raw: Uint8Array,
  passphrase: string,
): Promise<void> {
  const file = decodeIdentityFile(raw);
  if (
    new URL(file.server.replace(/^wss:/, 'https:')).host !==
    new URL(serverUrl().replace(/^wss:/, 'https:')).host
  )
    throw sispError('E_BAD_REQUEST', `this identity belongs to another server (${file.server})`);
  const opened = await openKeystore(file.keys, passphrase);
  await storage.saveIdentity(opened);
  await storage.saveKeyFile(file.keys);
  await storage.writeCa(file.ca);
  await storage.writeConfig({ server: serverUrl(), username: opened.username });
}

export function importForm(onSubmit: (file: File, passphrase: string) => void): ComponentChild {
  return h(
    'form',
    {
      'aria-label': 'Use an identity you already have',
      onSubmit: (event: Event) => {
        event.preventDefault();
        const form = event.currentTarget as HTMLFormElement;
        const input = form.elements.namedItem('identity') as HTMLInputElement;
        const passphrase = (form.elements.namedItem('identity-passphrase') as HTMLInputElement)
          .value;
        const file = input.files?.[0];
        if (file !== undefined) onSubmit(file, passphrase);
      },
    },
    [
      h('h2', null, 'Use an identity you already have'),
      h('label', null, [
        `Identity file (${IDENTITY_FILE_SUFFIX}, from sisp export or another browser)`,
        h('input', { type: 'file', name: 'identity', required: true }),
      ]),
      h('label', null, [
        "The identity file's passphrase",
        h('input', {
          type: 'password',
          name: 'identity-passphrase',
          required: true,
          autocomplete: 'current-password',
        }),
      ]),
      h('button', { type: 'submit' }, 'Use this identity'),
    ],
  );
}
