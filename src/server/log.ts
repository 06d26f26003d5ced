/**
 * Structured logs (pino, JSON lines) to DATA/logs/sisp.log and, by default, stdout.
 * User-supplied strings only ever appear as JSON string values, so they cannot
 * forge or split a line. Keys, wrapped keys and image bytes are never logged; the
 * redact list is a second line of defence for field names that must not leak.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';

export type { Logger };

/** The log files of this process, to reopen after logrotate has moved them (SIGHUP). */
const files = new Set<{ reopen(): void }>();

export function reopenLogFiles(): void {
  for (const file of files) file.reopen();
}

export function createLogger(dataDir: string, options: { stdout: boolean; level: string }): Logger {
  const logDir = join(dataDir, 'logs');
  mkdirSync(logDir, { recursive: true, mode: 0o700 });
  const file = pino.destination({ dest: join(logDir, 'sisp.log'), mkdir: true, sync: false });
  files.add(file);
  const streams: pino.StreamEntry[] = [{ stream: file }];
  if (options.stdout) streams.push({ stream: process.stdout });
  return pino(
    {
      level: options.level,
      base: { service: 'sisp' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: [
          '*.key',
          '*.keys',
          '*.privateKey',
          '*.signature',
          '*.proof',
          '*.data',
          '*.ct',
          '*.enc',
          '*.nonce',
        ],
        censor: '[redacted]',
      },
    },
    pino.multistream(streams),
  );
}
