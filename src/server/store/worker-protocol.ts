/**
 * Messages between the event loop and the store worker. Errors cross as plain
 * data: a SispError keeps its code (and detail) on the way back, so callers can
 * branch on it as on any other; anything else becomes E_INTERNAL with its text as
 * detail, for the log only.
 */
import { isErrorCode, isSispError, sispError, type SispError } from '../../protocol/errors.js';

export interface StoreCall {
  readonly seq: number;
  readonly method: string;
  readonly args: unknown[];
}

export interface WireError {
  readonly code: string;
  readonly message: string;
  readonly detail?: string;
}

export type StoreReply =
  | { readonly seq: number; readonly ok: true; readonly result: unknown }
  | { readonly seq: number; readonly ok: false; readonly error: WireError };

export function errorToWire(error: unknown): WireError {
  // A full disk is the operator's to fix and the client's to retry, not a bug.
  const code = (error as { code?: unknown } | undefined)?.code;
  if (code === 'SQLITE_FULL' || code === 'SQLITE_IOERR_WRITE')
    return { code: 'E_NO_SPACE', message: 'the server is out of storage space; try again later' };
  if (isSispError(error)) {
    return error.detail === undefined
      ? { code: error.code, message: error.message }
      : { code: error.code, message: error.message, detail: error.detail };
  }
  return {
    code: 'E_INTERNAL',
    message: 'the store failed',
    detail: error instanceof Error ? error.message : String(error),
  };
}

export function errorFromWire(wire: WireError): SispError {
  const code = isErrorCode(wire.code) ? wire.code : 'E_INTERNAL';
  return wire.detail === undefined
    ? sispError(code, wire.message)
    : sispError(code, wire.message, { detail: wire.detail });
}
