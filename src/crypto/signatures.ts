/**
 * Every Ed25519 signature sisp makes is over a domain-separation prefix followed by
 * a deterministic CBOR payload. The prefixes differ, so a signature made for one
 * purpose (say, answering an auth challenge) never verifies as another (a manifest).
 */
import { concatBytes, utf8 } from '../protocol/bytes.js';
import { encodeDeterministic } from '../protocol/cbor.js';
import { signEd25519, verifyEd25519 } from './keys.js';

export const SIGNATURE_DOMAINS = {
  register: 'sisp/2 register\n',
  auth: 'sisp/2 auth\n',
  manifest: 'sisp/2 manifest\n',
  grant: 'sisp/2 grant\n',
  withdraw: 'sisp/2 withdraw\n',
  albumMember: 'sisp/2 album member\n',
  albumItem: 'sisp/2 album item\n',
} as const;

export type SignatureDomain = keyof typeof SIGNATURE_DOMAINS;

/** The exact bytes that get signed: prefix || CBOR(payload). */
export function signedBytes(domain: SignatureDomain, payload: Uint8Array): Uint8Array {
  return concatBytes(utf8(SIGNATURE_DOMAINS[domain]), payload);
}

export async function signPayload(
  domain: SignatureDomain,
  privateKey: CryptoKey,
  payload: Uint8Array,
): Promise<Uint8Array> {
  return signEd25519(privateKey, signedBytes(domain, payload));
}

export async function verifyPayload(
  domain: SignatureDomain,
  publicKey: Uint8Array | CryptoKey,
  signature: Uint8Array,
  payload: Uint8Array,
): Promise<boolean> {
  return verifyEd25519(publicKey, signature, signedBytes(domain, payload));
}

/** Register proof of possession: binds the keys and name to this server and session. */
export function registerPayload(fields: {
  username: string;
  signingKey: Uint8Array;
  encryptionKey: Uint8Array;
  nonce: Uint8Array;
  caFingerprint: Uint8Array;
}): Uint8Array {
  return encodeDeterministic({
    username: fields.username,
    signingKey: fields.signingKey,
    encryptionKey: fields.encryptionKey,
    nonce: fields.nonce,
    ca: fields.caFingerprint,
  });
}

/** Auth response: the server's nonce, the username and the CA fingerprint. */
export function authPayload(fields: {
  username: string;
  nonce: Uint8Array;
  caFingerprint: Uint8Array;
}): Uint8Array {
  return encodeDeterministic({
    username: fields.username,
    nonce: fields.nonce,
    ca: fields.caFingerprint,
  });
}
