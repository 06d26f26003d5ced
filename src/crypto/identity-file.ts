/**
 * An identity file: one person's sisp identity, to carry between clients (the CLI's
 * `sisp export`/`sisp import`, the browser app's Export and "Use an identity you
 * have"). It holds the server's address, the sisp CA that server runs, and the key
 * file (keystore.ts), which must be sealed under a passphrase: the file is safe to
 * keep in a backup or send to oneself, and useless without the passphrase.
 */
import { decodeStrict, encodeDeterministic } from '../protocol/cbor.js';
import { sispError } from '../protocol/errors.js';
import { bytes, literal, struct, text } from '../protocol/schema.js';
import { keystoreInfo } from './keystore.js';

export const IDENTITY_FILE_VERSION = 1;
/** What a file of this kind is called when saved. */
export const IDENTITY_FILE_SUFFIX = '.sisp-identity';
const MAX_IDENTITY_FILE = 16 * 1024;

export interface IdentityFile {
  /** wss://HOST:PORT/ */
  readonly server: string;
  /** The sisp CA certificate, PEM. */
  readonly ca: string;
  /** The key file, sealed under a passphrase. */
  readonly keys: Uint8Array;
}

const schema = struct({
  v: literal(IDENTITY_FILE_VERSION),
  kind: literal('sisp identity'),
  server: text({ max: 512, pattern: /^wss:\/\/[^\s]+$/ }),
  ca: text({ max: 8192, pattern: /^-----BEGIN CERTIFICATE-----/ }),
  keys: bytes({ max: 4096 }),
});

function requireSealed(keys: Uint8Array): string {
  const info = keystoreInfo(keys);
  if (!info.encrypted)
    throw sispError('E_PASSPHRASE', 'an identity file needs keys sealed under a passphrase');
  return info.username;
}

export function encodeIdentityFile(file: IdentityFile): Uint8Array {
  requireSealed(file.keys);
  return encodeDeterministic({
    v: IDENTITY_FILE_VERSION,
    kind: 'sisp identity',
    server: file.server,
    ca: file.ca,
    keys: file.keys,
  });
}

/** The file's parts, checked; E_PASSPHRASE if it is damaged or not an identity file. */
export function decodeIdentityFile(raw: Uint8Array): IdentityFile & { username: string } {
  let parsed: IdentityFile;
  try {
    if (raw.length > MAX_IDENTITY_FILE) throw new Error('too large for an identity file');
    parsed = schema(decodeStrict(raw, { maxBytes: MAX_IDENTITY_FILE, maxDepth: 2 }), 'identity');
  } catch (cause) {
    throw sispError('E_PASSPHRASE', 'this is not a sisp identity file, or it is damaged', {
      cause,
    });
  }
  return { ...parsed, username: requireSealed(parsed.keys) };
}
