/**
 * The keys this browser has pinned (first seen, then held to, as the CLI does), and
 * accepting a changed key only when the fingerprint its owner reads you out of band
 * is the new key's.
 */
import { h, type ComponentChild } from 'preact';
import { signal } from '@preact/signals';
import type { SispClient } from '../../src/core/client.js';
import type { Pin } from '../../src/core/storage.js';
import { perform } from './actions.js';
import { refresh } from './gallery.js';

const pins = signal<readonly (readonly [string, Pin])[]>([]);

export async function refreshPins(current: SispClient): Promise<void> {
  pins.value = await current.storage.listPins();
}

function acceptForm(current: SispClient): ComponentChild {
  return h(
    'form',
    {
      class: 'action',
      onSubmit: (event: Event) => {
        event.preventDefault();
        const form = event.currentTarget as HTMLFormElement;
        const field = (name: string): string =>
          (form.elements.namedItem(name) as HTMLInputElement).value;
        const username = field('pin-user');
        const typed = field('pin-fingerprint');
        void perform(
          async () => {
            const accepted = await current.acceptKey(username, typed);
            return `${username} is now pinned to ${accepted.fingerprint}.`;
          },
          async () => {
            await refreshPins(current);
            await refresh(current);
          },
        );
      },
    },
    [
      h('label', null, [
        'User whose key changed',
        h('input', { name: 'pin-user', required: true }),
      ]),
      h('label', null, [
        'The fingerprint they read you (not from this page)',
        h('input', { name: 'pin-fingerprint', required: true, inputMode: 'numeric' }),
      ]),
      h('button', { type: 'submit' }, 'Accept the new key'),
    ],
  );
}

export function pinsView(current: SispClient): ComponentChild {
  return h('details', { class: 'manage' }, [
    h('summary', null, `Keys you have pinned (${pins.value.length})`),
    h(
      'ul',
      null,
      pins.value.map(([username, pin]) =>
        h('li', { key: username }, [
          `${username}: `,
          h('code', null, pin.fingerprint),
          ` · first seen ${new Date(pin.firstSeen).toLocaleString()}`,
        ]),
      ),
    ),
    acceptForm(current),
  ]);
}
