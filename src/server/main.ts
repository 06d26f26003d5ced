/** `sisp serve`: flags over environment over defaults, then run until a signal. */
import { resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { isSispError } from '../protocol/errors.js';
import { limitsFromEnv, parsePort, type ServerConfig } from './config.js';
import { reopenLogFiles } from './log.js';
import { startServer } from './server.js';

export async function runServer(argv: string[]): Promise<number> {
  const env = process.env;
  const program = new Command('sisp serve')
    .description('run the sisp server (CA, relay and ciphertext store)')
    .option('--data <dir>', 'data directory (env SISP_DATA)', env.SISP_DATA ?? './data')
    .option('--host <host>', 'address to listen on (env SISP_HOST)', env.SISP_HOST ?? '127.0.0.1')
    .option('--port <port>', 'port, 0 for any free one (env SISP_PORT)', (value) => {
      try {
        return value === '0' ? 0 : parsePort(value);
      } catch {
        throw new InvalidArgumentError('not a port number');
      }
    })
    .option('--tls-name <name...>', 'extra host names or addresses for the TLS certificate')
    .option('--quiet', 'log to DATA/logs only, not stdout')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });
  try {
    program.parse(argv, { from: 'user' });
  } catch (error) {
    return (error as { exitCode?: number }).exitCode ?? 2;
  }
  const options = program.opts<{
    data: string;
    host: string;
    port?: number;
    tlsName?: string[];
    quiet?: boolean;
  }>();
  let config: ServerConfig;
  try {
    config = {
      dataDir: resolve(options.data),
      host: options.host,
      port:
        options.port ??
        (env.SISP_PORT !== undefined && env.SISP_PORT !== '' ? parsePort(env.SISP_PORT) : 8443),
      tlsNames: options.tlsName ?? [],
      limits: limitsFromEnv(env),
      logToStdout: options.quiet !== true,
      logLevel: env.SISP_LOG_LEVEL ?? 'info',
    };
  } catch (error) {
    process.stderr.write(
      `error: ${isSispError(error) ? error.message : 'invalid configuration'}\n`,
    );
    return 2;
  }
  // Everything the server writes is private unless it says otherwise (ca.pem, tls.pem).
  process.umask(0o077);
  let server;
  try {
    server = await startServer(
      config,
      env.SISP_CA_KEY_FILE === undefined ? {} : { caKeyFile: env.SISP_CA_KEY_FILE },
    );
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'EADDRINUSE'
        ? `port ${config.port} is already in use`
        : isSispError(error)
          ? error.message
          : error instanceof Error
            ? error.message
            : 'unknown failure';
    process.stderr.write(`error: cannot start the server: ${reason}\n`);
    return 1;
  }
  // A bug in one request must not take everyone's server down: log it and go on.
  process.on('unhandledRejection', (reason) => {
    server.context.log.error(
      { event: 'internal_error', err: reason instanceof Error ? reason.message : 'unknown' },
      'unhandled rejection',
    );
  });
  // logrotate moves sisp.log and sends SIGHUP: write to a new file from then on.
  process.on('SIGHUP', () => {
    reopenLogFiles();
    server.context.log.info({ event: 'logs.reopened' }, 'log files reopened');
  });
  process.stdout.write(
    `sisp serving ${server.url} (data ${config.dataDir}) CA fingerprint ${server.caFingerprint}\n`,
  );
  return new Promise<number>((done) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      server
        .stop()
        .then(() => {
          done(0);
        })
        .catch(() => {
          done(1);
        });
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
