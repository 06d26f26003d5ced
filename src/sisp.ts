#!/usr/bin/env node
/**
 * The one executable. This file is the only place that knows both the client and
 * the server, and only to dispatch: `sisp serve` runs the server, anything else is
 * the client.
 */
const args = process.argv.slice(2);

async function main(): Promise<number> {
  if (args[0] === 'serve') {
    const { runServer } = await import('./server/main.js');
    return runServer(args.slice(1));
  }
  if (args[0] === 'help' && args[1] === 'serve') {
    const { runServer } = await import('./server/main.js');
    return runServer(['--help']);
  }
  const { runClient } = await import('./cli/main.js');
  return runClient(args);
}

main().then(
  (code) => {
    process.exitCode = code;
    // The work is done; a socket or stdin still open must not keep the process alive.
    setTimeout(() => process.exit(code), 500).unref();
  },
  (error: unknown) => {
    // Last resort: main() handles its own errors; this only catches bugs.
    process.stderr.write(
      `error: ${error instanceof Error ? error.message : 'unexpected failure'}\n`,
    );
    process.exitCode = 1;
  },
);
