/** What every group of commands in the tree uses: a signed-in client, help text, --to lists. */
import type { SispClient } from '../core/client.js';
import { sispError } from '../protocol/errors.js';
import type { CliContext } from './context.js';

/** Signs in, runs `action`, and closes the connection whatever happened. */
export async function withClient<T>(
  context: CliContext,
  action: (client: SispClient) => Promise<T>,
): Promise<T> {
  // Loaded here, not above: the command tree imports this file, and help needs no client.
  const { login } = await import('./context.js');
  const client = await login(context);
  try {
    return await action(client);
  } finally {
    client.close();
  }
}

export function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((line) => `  $ ${line}`).join('\n')}\n`;
}

export const JSON_HELP = 'print the result as JSON (shape in docs/CLI.md)';

/** --to a,b: the names, trimmed; `--to ''` stays an empty list, which post refuses. */
export function recipients(to: string | undefined): string[] | undefined {
  return to
    ?.split(',')
    .map((user) => user.trim())
    .filter((user) => user !== '');
}

export const MAX_WIDTH = 1000;

/** --width: columns to draw an image in. */
export function parseWidth(text: string): number {
  const width = Number(text);
  if (!Number.isInteger(width) || width < 1 || width > MAX_WIDTH)
    throw sispError('E_BAD_REQUEST', `--width is a number of columns from 1 to ${MAX_WIDTH}`);
  return width;
}
