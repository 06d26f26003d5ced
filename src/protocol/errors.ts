/**
 * Errors are values with stable codes. Code branches on `code`, never on `message`.
 * The table below is the single source of truth; docs/PROTOCOL.md mirrors it and a
 * test checks that the two agree.
 */
export const ERROR_CODES = {
  E_BAD_FRAME: 'The message could not be decoded.',
  E_BAD_REQUEST: 'The request is malformed or not allowed at this point.',
  E_VERSION: 'The protocol version is not supported.',
  E_AUTH: 'Authentication failed.',
  E_NAME_TAKEN: 'That username is already registered with another key.',
  E_INVALID_NAME: 'That name is not allowed.',
  E_EXISTS: 'An image with that name already exists.',
  E_NOT_FOUND: 'Not found.',
  E_AMBIGUOUS: 'More than one image matches that name.',
  E_FORBIDDEN: 'Not allowed.',
  E_TOO_LARGE: 'Too large.',
  E_TAMPERED: 'The data failed verification and was rejected.',
  E_BAD_MANIFEST: 'The image manifest is malformed or not in canonical form.',
  E_MANIFEST_MISMATCH: 'The manifest does not describe what post.begin declared.',
  E_INCOMPLETE: 'The upload ended before all the declared data arrived.',
  E_CLOCK_SKEW: "The manifest's creation time is too far from the server's clock.",
  E_FLOW_CONTROL: 'Data was sent beyond the credit granted.',
  E_CERTIFICATE: 'The certificate is not valid.',
  E_KEY_CHANGED: "A peer's key differs from the one pinned for it.",
  E_BAD_KEY: 'The key is malformed or of the wrong kind.',
  E_PASSPHRASE: 'The passphrase is wrong or the key file is damaged.',
  E_RATE_LIMITED: 'Too many requests; slow down.',
  E_QUOTA: 'A storage limit would be exceeded.',
  E_NO_SPACE: 'The server is out of storage space.',
  E_EXPIRED: 'The link has expired.',
  E_USED_UP: 'The link has been downloaded as many times as its owner allowed.',
  E_REVOKED: 'The link was revoked by its owner.',
  E_TIMEOUT: 'The peer took too long.',
  E_CANCELLED: 'The operation was cancelled.',
  E_UNAVAILABLE: 'The service is unavailable or shutting down.',
  E_INTERNAL: 'An internal error occurred.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * Codes after which the server closes the connection: the peer is not speaking the
 * protocol (or abused flow control), so nothing more it sends can be trusted. Every
 * other error answers one request and leaves the connection open. A failed `auth`
 * or `register` proof also closes it, and so do the errors the server sends with
 * id 0 (docs/PROTOCOL.md, section 2.1).
 */
export const CLOSING_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'E_BAD_FRAME',
  'E_VERSION',
  'E_FLOW_CONTROL',
]);

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}

/**
 * The one error type this code base throws on purpose. `message` is safe to show a
 * user or send to a peer; `detail` is for the local log only and must never carry
 * secrets either.
 */
export class SispError extends Error {
  readonly code: ErrorCode;
  readonly detail: string | undefined;

  constructor(code: ErrorCode, message?: string, options?: { detail?: string; cause?: unknown }) {
    super(
      message ?? ERROR_CODES[code],
      options?.cause === undefined ? {} : { cause: options.cause },
    );
    this.name = 'SispError';
    this.code = code;
    this.detail = options?.detail;
  }
}

export function sispError(
  code: ErrorCode,
  message?: string,
  options?: { detail?: string; cause?: unknown },
): SispError {
  return new SispError(code, message, options);
}

export function isSispError(value: unknown, code?: ErrorCode): value is SispError {
  return value instanceof SispError && (code === undefined || value.code === code);
}
