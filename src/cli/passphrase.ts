/**
 * The passphrase that protects the keys: from SISP_PASSPHRASE (read once, then
 * removed from the environment so that no program sisp starts inherits it), or
 * asked for on the terminal without echo.
 */
import { Writable } from 'node:stream';
import { sispError } from '../protocol/errors.js';

/** SISP_PASSPHRASE (or another variable), taken out of the environment. */
export function takePassphraseFromEnv(
  env: NodeJS.ProcessEnv,
  variable: 'SISP_PASSPHRASE' | 'SISP_NEW_PASSPHRASE' = 'SISP_PASSPHRASE',
): string | undefined {
  const value = env[variable];
  Reflect.deleteProperty(env, variable);
  return value === undefined || value === '' ? undefined : value;
}

export interface Terminal {
  readonly input: NodeJS.ReadableStream & { isTTY?: boolean };
  readonly output: NodeJS.WritableStream & { isTTY?: boolean };
}

export function isInteractive(terminal: Terminal): boolean {
  return terminal.input.isTTY === true && terminal.output.isTTY === true;
}

/** Asks on the terminal; what is typed is not shown. */
export async function askPassphrase(terminal: Terminal, question: string): Promise<string> {
  if (!isInteractive(terminal))
    throw sispError(
      'E_PASSPHRASE',
      'the keys are protected by a passphrase: set SISP_PASSPHRASE, or run on a terminal to be asked',
    );
  terminal.output.write(question);
  // Echo goes to a sink that drops it; only the question was written.
  const muted = new Writable({
    write(_chunk, _encoding, done) {
      done();
    },
  });
  // readline loads when asked for, not with the command tree (start-up, bench/README).
  const { createInterface } = await import('node:readline');
  const rl = createInterface({ input: terminal.input, output: muted, terminal: true });
  try {
    return await new Promise<string>((resolve) => {
      rl.once('line', resolve);
      rl.once('close', () => {
        resolve('');
      });
    });
  } finally {
    rl.close();
    terminal.output.write('\n');
  }
}
