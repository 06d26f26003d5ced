/** What a failed request becomes on the wire, and in the log. */
import { isSispError, sispError, type SispError } from '../protocol/errors.js';
import { SUPPORTED_VERSIONS, type MessageBody } from '../protocol/messages.js';
import type { Logger } from './log.js';

/**
 * A SispError as it is (logged when it carries detail); anything else is a bug:
 * E_INTERNAL to the peer, its text to the log only.
 */
export function describeFailure(
  log: Logger,
  session: string,
  type: string,
  error: unknown,
): SispError {
  if (isSispError(error)) {
    if (error.code === 'E_INTERNAL' || error.detail !== undefined) {
      log.warn(
        { event: 'request.error', session, type, code: error.code, detail: error.detail },
        'request failed',
      );
    }
    return error;
  }
  log.error(
    {
      event: 'internal_error',
      session,
      type,
      err: error instanceof Error ? error.message : 'unknown',
    },
    'internal error',
  );
  return sispError('E_INTERNAL', 'the server could not complete the request');
}

/** The body of an `error` frame; E_VERSION also says which versions there are. */
export function errorBody(error: SispError): MessageBody<'error'> {
  const body: MessageBody<'error'> = { code: error.code, message: error.message.slice(0, 512) };
  return error.code === 'E_VERSION' ? { ...body, supported: [...SUPPORTED_VERSIONS] } : body;
}
