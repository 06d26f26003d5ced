/**
 * What commands print: text for people (names quoted when they would otherwise be
 * ambiguous) and, with --json, one JSON document per result whose shape is versioned
 * (docs/CLI.md). Fields are only ever added within a version; renaming or removing
 * one makes a new version.
 */
import { isSispError } from '../protocol/errors.js';
import { isUnsafe, safeLine, safeText } from './terminal.js';

/** The version of every --json shape; documented in docs/CLI.md. */
export const JSON_VERSION = 1;

export interface Output {
  readonly out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number; rows?: number };
  readonly err: NodeJS.WritableStream & { isTTY?: boolean };
}

/** One JSON document on one line, with the shape's version first. */
export function jsonLine(value: Record<string, unknown>): string {
  return `${JSON.stringify({ version: JSON_VERSION, ...value })}\n`;
}

/** Errors from the local file system, by errno code: what went wrong, in words. */
const FILE_ERRORS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory',
  ENOTDIR: 'a part of the path is not a directory',
  EEXIST: 'already exists',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'the name is too long',
  ELOOP: 'too many symbolic links',
  EIO: 'input/output error',
  EFBIG: 'the file is too large',
};

export interface Failure {
  /** A code from the protocol's table, E_FILE for a local file, E_INTERNAL for a bug. */
  readonly code: string;
  /** One plain line, safe to print. */
  readonly message: string;
  readonly path?: string;
  readonly errno?: string;
}

/**
 * What a failed command says, the same in the CLI and the prompt: our own errors
 * by their message; a local file error by its path and what went wrong; anything
 * else is a bug, and its text (which may hold internals) stays out.
 */
export function describeError(error: unknown): Failure {
  // A local file error wrapped by the core (a sink that could not write) is shown as one.
  const file = fileError(error) ?? (isSispError(error) ? fileError(error.cause) : undefined);
  if (file !== undefined) return file;
  // A SispError's message may have come from the server: shown, but never as control.
  if (isSispError(error)) return { code: error.code, message: safeLine(error.message) };
  return { code: 'E_INTERNAL', message: 'unexpected failure' };
}

function fileError(error: unknown): Failure | undefined {
  const { code, path } = (error ?? {}) as NodeJS.ErrnoException;
  const words = code === undefined ? undefined : FILE_ERRORS[code];
  if (words === undefined || code === undefined) return undefined;
  const shown = path === undefined ? 'a local file' : safeLine(path);
  return {
    code: 'E_FILE',
    message: `${shown}: ${words} (${code})`,
    errno: code,
    ...(path === undefined ? {} : { path }),
  };
}

/** A failure as one JSON line, for stderr under --json. */
export function jsonError(error: unknown): string {
  return jsonLine({ error: describeError(error) });
}

/**
 * Names as shown in text output: bare when they are one plain word, otherwise in
 * double quotes with escapes, so `NEW_IMAGE "bad name" alice` has exactly three
 * words and a pasted `"alice/bad name"` works as a shell argument.
 */
export function quoteName(name: string): string {
  if (name !== '' && !needsQuotes(name)) return name;
  return safeText(JSON.stringify(name));
}

function needsQuotes(name: string): boolean {
  for (const char of name) {
    const code = char.codePointAt(0) ?? 0;
    if (/[\s"'\\$`!*?;&|<>(){}[\]#~]/u.test(char) || isUnsafe(code)) return true;
  }
  return false;
}

/** `owner/name`, quoted as a whole when the name needs it. */
export function quoteReference(owner: string, name: string): string {
  return quoteName(`${owner}/${name}`);
}
