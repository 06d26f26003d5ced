/**
 * Ed25519 signing keys and X25519 encryption keys, through WebCrypto. Public keys
 * travel as 32 raw bytes; private keys are exported only as PKCS#8 for the keystore.
 */
import { checkBytes, concatBytes, equalBytes } from '../protocol/bytes.js';
import { sispError } from '../protocol/errors.js';
import { X25519_PKCS8_PREFIX } from './der.js';
import { RecentKeys } from './recent-keys.js';
import { buf, subtle } from './webcrypto.js';

export const PUBLIC_KEY_SIZE = 32;
export const SIGNATURE_SIZE = 64;

export interface Identity {
  readonly signing: CryptoKeyPair;
  readonly encryption: CryptoKeyPair;
}

/** Raw public keys of an identity, as certificates and the wire carry them. */
export interface PublicIdentity {
  readonly signingKey: Uint8Array;
  readonly encryptionKey: Uint8Array;
}

export async function generateIdentity(): Promise<Identity> {
  const signing = await subtle().generateKey({ name: 'Ed25519' }, true, ['sign', 'verify']);
  const encryption = (await subtle().generateKey({ name: 'X25519' }, true, [
    'deriveBits',
  ])) as CryptoKeyPair;
  return { signing, encryption };
}

export async function exportRawPublic(key: CryptoKey): Promise<Uint8Array> {
  return new Uint8Array(await subtle().exportKey('raw', key));
}

export async function publicIdentity(identity: Identity): Promise<PublicIdentity> {
  return {
    signingKey: await exportRawPublic(identity.signing.publicKey),
    encryptionKey: await exportRawPublic(identity.encryption.publicKey),
  };
}

export async function importEd25519Public(raw: Uint8Array): Promise<CryptoKey> {
  if (!(raw instanceof Uint8Array) || raw.length !== PUBLIC_KEY_SIZE) {
    throw sispError('E_BAD_KEY', 'an Ed25519 public key is 32 bytes');
  }
  try {
    return await subtle().importKey('raw', buf(raw), { name: 'Ed25519' }, true, ['verify']);
  } catch (cause) {
    throw sispError('E_BAD_KEY', 'invalid Ed25519 public key', { cause });
  }
}

export async function importX25519Public(raw: Uint8Array): Promise<CryptoKey> {
  if (!(raw instanceof Uint8Array) || raw.length !== PUBLIC_KEY_SIZE) {
    throw sispError('E_BAD_KEY', 'an X25519 public key is 32 bytes');
  }
  try {
    return await subtle().importKey('raw', buf(raw), { name: 'X25519' }, true, []);
  } catch (cause) {
    throw sispError('E_BAD_KEY', 'invalid X25519 public key', { cause });
  }
}

export async function exportPkcs8(key: CryptoKey): Promise<Uint8Array> {
  return new Uint8Array(await subtle().exportKey('pkcs8', key));
}

export async function importPkcs8(
  der: Uint8Array,
  algorithm: 'Ed25519' | 'X25519',
): Promise<CryptoKey> {
  try {
    const usages: KeyUsage[] = algorithm === 'Ed25519' ? ['sign'] : ['deriveBits'];
    return await subtle().importKey('pkcs8', buf(der), { name: algorithm }, true, usages);
  } catch (cause) {
    throw sispError('E_BAD_KEY', `invalid ${algorithm} private key`, { cause });
  }
}

export async function importX25519PrivateRaw(raw: Uint8Array): Promise<CryptoKey> {
  checkBytes('raw', raw, 32);
  return importPkcs8(concatBytes(X25519_PKCS8_PREFIX, raw), 'X25519');
}

/**
 * X25519 with the all-zero check of RFC 7748 section 6.1: a low-order peer key
 * yields an all-zero secret, which is refused rather than used.
 */
export async function x25519(privateKey: CryptoKey, peerPublic: Uint8Array): Promise<Uint8Array> {
  const peer = await importX25519Public(peerPublic);
  let shared: Uint8Array;
  try {
    shared = new Uint8Array(
      await subtle().deriveBits({ name: 'X25519', public: peer }, privateKey, 256),
    );
  } catch (cause) {
    throw sispError('E_BAD_KEY', 'X25519 key agreement failed', { cause });
  }
  if (equalBytes(shared, new Uint8Array(32))) {
    throw sispError('E_BAD_KEY', 'X25519 peer key is of low order');
  }
  return shared;
}

export async function signEd25519(privateKey: CryptoKey, message: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await subtle().sign({ name: 'Ed25519' }, privateKey, buf(message)));
}

// Owners' keys on every image of theirs, users' on every sign-in.
const verifyingKeys = new RecentKeys(importEd25519Public, 1024);

export async function verifyEd25519(
  publicKey: Uint8Array | CryptoKey,
  signature: Uint8Array,
  message: Uint8Array,
): Promise<boolean> {
  if (!(signature instanceof Uint8Array) || signature.length !== SIGNATURE_SIZE) return false;
  const key = publicKey instanceof Uint8Array ? await verifyingKeys.get(publicKey) : publicKey;
  try {
    return await subtle().verify({ name: 'Ed25519' }, key, buf(signature), buf(message));
  } catch {
    return false;
  }
}
