/** `sisp serve`: flags over environment over defaults, then run until a signal. */
import { resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { isSispError, sispError } from '../protocol/errors.js';
import { VERSION } from '../version.js';
import { parseBlobsUrl } from './blobs/s3-location.js';
import { LIMIT_VARIABLES, limitsFromEnv, parsePort, type ServerConfig } from './config.js';
import { reopenLogFiles } from './log.js';
import { startServer } from './server.js';

/** The `sisp serve` command line: flags, their environment variables and defaults, examples. */
/** A port to listen on: 1-65535, or 0 for any free one. */
function listenPort(value: string): number {
  return value === '0' ? 0 : parsePort(value);
}

function portOption(value: string): number {
  try {
    return listenPort(value);
  } catch {
    throw new InvalidArgumentError('not a port number');
  }
}

export function serveCommand(env: NodeJS.ProcessEnv): Command {
  return new Command('sisp serve')
    .description('run the sisp server (CA, relay and ciphertext store)')
    .version(VERSION, '-V, --version', 'print the version')
    .option('--data <dir>', 'data directory (env SISP_DATA)', env.SISP_DATA ?? './data')
    .option('--host <host>', 'address to listen on (env SISP_HOST)', env.SISP_HOST ?? '127.0.0.1')
    .option('--port <port>', 'port, 0 for any free one (env SISP_PORT; default 8443)', portOption)
    .option('--tls-name <name...>', 'extra host names or addresses for the TLS certificate')
    .option(
      '--tls-cert <file>',
      "an operator's certificate chain (PEM) for HTTPS/WSS, e.g. from an ACME client (env SISP_TLS_CERT)",
      env.SISP_TLS_CERT === '' ? undefined : env.SISP_TLS_CERT,
    )
    .option(
      '--tls-key <file>',
      'its private key (PEM) (env SISP_TLS_KEY)',
      env.SISP_TLS_KEY === '' ? undefined : env.SISP_TLS_KEY,
    )
    .option(
      '--metrics-port <port>',
      'serve Prometheus /metrics, /healthz and /readyz over HTTP on this port, 0 for any (env SISP_METRICS_PORT; default off)',
      portOption,
    )
    .option(
      '--metrics-host <host>',
      'address of the metrics listener (env SISP_METRICS_HOST; default 127.0.0.1)',
      env.SISP_METRICS_HOST === '' ? undefined : env.SISP_METRICS_HOST,
    )
    .option(
      '--db <url>',
      'keep metadata in PostgreSQL, for several nodes: postgres://USER:PASS@HOST/DB (env SISP_DB)',
    )
    .option(
      '--blobs <url>',
      'keep image blobs in S3-compatible storage: s3://BUCKET/PREFIX?endpoint=URL&region=R (env SISP_BLOBS; AWS credentials from the environment)',
      env.SISP_BLOBS === '' ? undefined : env.SISP_BLOBS,
    )
    .option('--quiet', 'log to DATA/logs only, not stdout')
    .helpOption('-h, --help', 'show help')
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({
      writeErr: (text) => process.stderr.write(text),
      writeOut: (text) => process.stdout.write(text),
    })
    .addHelpText(
      'after',
      `
Examples:
  $ sisp serve
  $ sisp serve --data /var/lib/sisp --host 0.0.0.0 --port 8443 --tls-name photos.example
  $ SISP_MAX_IMAGE=104857600 sisp serve --quiet
  $ sisp serve --host 0.0.0.0 --tls-cert /etc/letsencrypt/live/photos.example/fullchain.pem \\
      --tls-key /etc/letsencrypt/live/photos.example/privkey.pem

Limits and tuning come from the environment (${Object.values(LIMIT_VARIABLES).length} variables, such as
SISP_MAX_IMAGE, SISP_RATE, SISP_IMAGES_PER_USER); docs/OPERATIONS.md lists them all.
The server prints its CA fingerprint at start: hand it to users with DATA/ca.pem.
It serves the browser app at https://HOST:PORT/ and prints the app's digest (sisp web verify).
SIGTERM or Ctrl-C stops it gracefully; SIGHUP reopens the log files and re-reads --tls-cert/--tls-key.
Exit status: 0 stopped cleanly, 1 failed, 2 usage or configuration error.
`,
    );
}

/** A postgres:// URL, or a usage error (never echoing it: it may hold a password). */
function databaseConfig(text: string | undefined): { database?: string } {
  if (text === undefined) return {};
  return { database: checkDatabaseUrl(text) };
}

function checkDatabaseUrl(text: string): string {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (url === undefined || !['postgres:', 'postgresql:'].includes(url.protocol))
    throw sispError(
      'E_BAD_REQUEST',
      '--db takes a postgres://USER:PASSWORD@HOST:PORT/DATABASE URL',
    );
  return text;
}

/** The metrics listener from flags, then the environment; none unless a port is given. */
function metricsConfig(
  port: number | undefined,
  host: string | undefined,
  env: NodeJS.ProcessEnv,
): { metricsPort?: number; metricsHost?: string } {
  const fromEnv = env.SISP_METRICS_PORT;
  const chosen =
    port ??
    (fromEnv === undefined || fromEnv === ''
      ? undefined
      : fromEnv === '0'
        ? 0
        : parsePort(fromEnv));
  return {
    ...(chosen === undefined ? {} : { metricsPort: chosen }),
    ...(host === undefined ? {} : { metricsHost: host }),
  };
}

export async function runServer(argv: string[]): Promise<number> {
  const env = process.env;
  const program = serveCommand(env);
  try {
    program.parse(argv, { from: 'user' });
  } catch (error) {
    // Help and version end with 0; every other command-line error is a usage error.
    return (error as { exitCode?: number }).exitCode === 0 ? 0 : 2;
  }
  const options = program.opts<{
    data: string;
    host: string;
    port?: number;
    tlsName?: string[];
    tlsCert?: string;
    tlsKey?: string;
    metricsPort?: number;
    metricsHost?: string;
    db?: string;
    blobs?: string;
    quiet?: boolean;
  }>();
  if ((options.tlsCert === undefined) !== (options.tlsKey === undefined)) {
    process.stderr.write('error: --tls-cert and --tls-key go together\n');
    return 2;
  }
  let config: ServerConfig;
  try {
    config = {
      dataDir: resolve(options.data),
      host: options.host,
      port:
        options.port ??
        (env.SISP_PORT !== undefined && env.SISP_PORT !== '' ? parsePort(env.SISP_PORT) : 8443),
      tlsNames: options.tlsName ?? [],
      ...(options.tlsCert === undefined || options.tlsKey === undefined
        ? {}
        : { tlsFiles: { cert: resolve(options.tlsCert), key: resolve(options.tlsKey) } }),
      ...metricsConfig(options.metricsPort, options.metricsHost, env),
      ...(options.blobs === undefined ? {} : { blobStore: parseBlobsUrl(options.blobs) }),
      // From the environment here, not as the option's default: help would print it.
      ...databaseConfig(options.db ?? (env.SISP_DB === '' ? undefined : env.SISP_DB)),
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
    server.reloadTls().catch((error: unknown) => {
      server.context.log.error(
        { event: 'tls.reload_failed', err: error instanceof Error ? error.message : 'unknown' },
        'the TLS certificate could not be re-read; the old one stays',
      );
    });
  });
  process.stdout.write(
    `sisp serving ${server.url} (data ${config.dataDir}) CA fingerprint ${server.caFingerprint}\n`,
  );
  const web = server.url.replace(/^wss:/, 'https:');
  process.stdout.write(
    server.appDigest === undefined
      ? 'browser app: not built (npm run build)\n'
      : `browser app: ${web} digest ${server.appDigest}\n`,
  );
  if (server.metricsUrl !== undefined)
    process.stdout.write(`metrics: ${server.metricsUrl}metrics (and /healthz, /readyz)\n`);
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
