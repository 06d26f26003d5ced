/** A labelled field and a button that runs one action, its outcome told in words. */
import { h, type ComponentChild } from 'preact';
import { inWords } from './session.js';
import { error, notice } from './state.js';

/** Users or names typed as "a, b, c". */
export function listOf(text: string): string[] {
  return text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}

/** Runs `act`, showing what it says as the notice, or the error in words. */
export async function perform(
  act: () => Promise<string>,
  after?: () => Promise<void>,
): Promise<void> {
  error.value = '';
  try {
    notice.value = await act();
  } catch (failure) {
    notice.value = '';
    error.value = inWords(failure);
  }
  await after?.();
}

export interface ActionForm {
  readonly label: string;
  readonly button: string;
  /** The button's accessible name when `button` alone is ambiguous on the page. */
  readonly buttonName?: string;
  readonly act: (value: string) => Promise<string>;
  readonly after?: () => Promise<void>;
}

export function actionForm(form: ActionForm): ComponentChild {
  return h(
    'form',
    {
      class: 'action',
      onSubmit: (event: Event) => {
        event.preventDefault();
        const element = event.currentTarget as HTMLFormElement;
        const input = element.elements.namedItem('value') as HTMLInputElement;
        const value = input.value;
        void perform(() => form.act(value), form.after).then(() => {
          element.reset();
        });
      },
    },
    [
      h('label', null, [
        form.label,
        h('input', { name: 'value', required: true, autocomplete: 'off' }),
      ]),
      h('button', { type: 'submit', 'aria-label': form.buttonName ?? form.button }, form.button),
    ],
  );
}
