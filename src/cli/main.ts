/**
 * The client CLI: the command tree (program.ts) run once, or the interactive prompt
 * when no command is given. Failures are one plain line (JSON under --json); exit
 * status 0 done, 1 failed, 2 usage error, 130 interrupted, 141 output closed early.
 */
import { CommanderError, type Command } from 'commander';
import { isSispError } from '../protocol/errors.js';
import { describeError, jsonError, type Output } from './output.js';
import { takePassphraseFromEnv } from './passphrase.js';
import { buildProgram, cliContext, type GlobalOptions, type Run } from './program.js';
import { didYouMean } from './suggest.js';

export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130, closedPipe: 141 } as const;

/**
 * stdout closed early (`sisp list | head -1`) is how a reader says it has enough:
 * end quietly with the status a shell gives a process killed by SIGPIPE.
 */
function endQuietlyOnClosedPipe(stream: NodeJS.WritableStream): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    process.exit(error.code === 'EPIPE' ? EXIT.closedPipe : EXIT.failed);
  });
}

/** The first Ctrl-C cancels what is running (and it cleans up); a second one leaves at once. */
function interruptOnSignals(controller: AbortController): () => void {
  const onSignal = (): void => {
    if (controller.signal.aborted) process.exit(EXIT.interrupted);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}

const HELP_OR_VERSION = new Set(['-h', '--help', '-V', '--version']);

type Route = { kind: 'command' } | { kind: 'prompt' } | { kind: 'usage'; message: string };

/** A known command (or help) goes to commander; none opens the prompt; anything else is a usage error. */
function route(program: Command, argv: readonly string[]): Route {
  const parsed = program.parseOptions([...argv]);
  const [word] = parsed.operands;
  const commands = [...program.commands.map((command) => command.name()), 'help'];
  if (word !== undefined) {
    if (commands.includes(word)) return { kind: 'command' };
    return {
      kind: 'usage',
      message: `error: unknown command '${word}'${didYouMean(word, commands)}\nsee sisp --help\n`,
    };
  }
  if (argv.some((arg) => HELP_OR_VERSION.has(arg))) return { kind: 'command' };
  const [option] = parsed.unknown;
  if (option !== undefined) {
    const flags = program.options.flatMap((known) =>
      known.long === undefined ? [] : [known.long],
    );
    const name = option.split('=')[0] ?? option;
    return {
      kind: 'usage',
      message: `error: unknown option '${name}'${didYouMean(name, [...flags, '--help', '--version'])}\nsee sisp --help\n`,
    };
  }
  return { kind: 'prompt' };
}

export async function runClient(argv: string[]): Promise<number> {
  const output: Output = { out: process.stdout, err: process.stderr };
  endQuietlyOnClosedPipe(process.stdout);
  endQuietlyOnClosedPipe(process.stderr);
  const controller = new AbortController();
  const run: Run = {
    output,
    terminal: { input: process.stdin, output: process.stderr },
    // Taken out of the environment: no program sisp starts (an image viewer) inherits them.
    passphrase: takePassphraseFromEnv(process.env),
    newPassphrase: takePassphraseFromEnv(process.env, 'SISP_NEW_PASSPHRASE'),
    signal: controller.signal,
    env: process.env,
  };
  const program = buildProgram(run);
  const json = argv.includes('--json');
  const stopListening = interruptOnSignals(controller);
  try {
    const where = route(program, argv);
    if (where.kind === 'usage') {
      output.err.write(where.message);
      return EXIT.usage;
    }
    if (where.kind === 'prompt') {
      const context = cliContext(program.opts<GlobalOptions>(), run.env, run.passphrase);
      const { runPrompt } = await import('./prompt.js');
      return await runPrompt(context, output, process.stdin, controller.signal);
    }
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    output.err.write(json ? jsonError(error) : `error: ${describeError(error).message}\n`);
    if (process.env.SISP_DEBUG === '1' && error instanceof Error)
      output.err.write(`${error.stack ?? ''}\n`);
    return controller.signal.aborted && isSispError(error, 'E_CANCELLED')
      ? EXIT.interrupted
      : EXIT.failed;
  } finally {
    stopListening();
  }
}
