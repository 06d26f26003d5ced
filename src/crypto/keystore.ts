/**
 * The client's key file: both private keys as PKCS#8, optionally sealed under a
 * passphrase (scrypt from @noble/hashes, since WebCrypto has no memory-hard KDF,
 * then AES-256-GCM). The public parts stay readable without the passphrase and are
 * bound to the sealed part as associated data.
 */
import { scryptAsync } from '@noble/hashes/scrypt.js';
import { equalBytes, utf8 } from '../protocol/bytes.js';
import { decodeStrict, encodeDeterministic } from '../protocol/cbor.js';
import { sispError } from '../protocol/errors.js';
import { isCanonicalUsername } from '../protocol/names.js';
import { bytes, literal, refine, struct, text, uint } from '../protocol/schema.js';
import { toBase64Url } from '../protocol/link.js';
import { ED25519_PKCS8_PREFIX, X25519_PKCS8_PREFIX } from './der.js';
import { exportPkcs8, exportRawPublic, importPkcs8, type Identity } from './keys.js';
import { buf, randomBytes, subtle } from './webcrypto.js';

export const KEYSTORE_VERSION = 1;

export interface ScryptParams {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

/** 2^17 x 8 x 1: 128 MiB and about a second, the usual interactive-login setting. */
export const DEFAULT_SCRYPT: ScryptParams = { N: 2 ** 17, r: 8, p: 1 };
/** Refuse files that ask for more than this: a key file must not be a memory bomb. */
const MAX_SCRYPT_MEMORY = 1024 * 1024 * 1024;

const secretSchema = struct({ signing: bytes({ max: 256 }), encryption: bytes({ max: 256 }) });
const fileSchema = struct(
  {
    v: literal(KEYSTORE_VERSION),
    username: refine(text({ max: 32 }), isCanonicalUsername, 'not a canonical username'),
    signingKey: bytes({ exact: 32 }),
    encryptionKey: bytes({ exact: 32 }),
  },
  {
    plain: bytes({ max: 1024 }),
    scrypt: struct({
      N: uint(2 ** 24, 2),
      r: uint(64, 1),
      p: uint(16, 1),
      salt: bytes({ exact: 32 }),
    }),
    nonce: bytes({ exact: 12 }),
    sealed: bytes({ max: 1024 }),
  },
);

export interface UnlockedKeys {
  readonly username: string;
  readonly identity: Identity;
}

async function deriveKey(
  passphrase: string,
  salt: Uint8Array,
  params: ScryptParams,
): Promise<CryptoKey> {
  if (
    128 * params.N * params.r + 128 * params.r * params.p > MAX_SCRYPT_MEMORY ||
    (params.N & (params.N - 1)) !== 0
  ) {
    throw sispError('E_PASSPHRASE', 'the key file asks for unsafe scrypt parameters');
  }
  const raw = await scryptAsync(utf8(passphrase.normalize('NFC')), salt, {
    ...params,
    dkLen: 32,
    maxmem: MAX_SCRYPT_MEMORY + 1024,
  });
  try {
    return await subtle().importKey('raw', buf(raw), 'AES-GCM', false, ['encrypt', 'decrypt']);
  } finally {
    raw.fill(0);
  }
}

export async function sealKeystore(
  username: string,
  identity: Identity,
  options: { passphrase?: string; scrypt?: ScryptParams } = {},
): Promise<Uint8Array> {
  const publicPart = {
    v: KEYSTORE_VERSION,
    username,
    signingKey: await exportRawPublic(identity.signing.publicKey),
    encryptionKey: await exportRawPublic(identity.encryption.publicKey),
  } as const;
  const secret = encodeDeterministic({
    signing: await exportPkcs8(identity.signing.privateKey),
    encryption: await exportPkcs8(identity.encryption.privateKey),
  });
  if (options.passphrase === undefined || options.passphrase === '') {
    return encodeDeterministic({ ...publicPart, plain: secret });
  }
  const params = options.scrypt ?? DEFAULT_SCRYPT;
  const scrypt = { ...params, salt: randomBytes(32) };
  const nonce = randomBytes(12);
  const key = await deriveKey(options.passphrase, scrypt.salt, params);
  const aad = encodeDeterministic({ ...publicPart, scrypt });
  const sealed = new Uint8Array(
    await subtle().encrypt(
      { name: 'AES-GCM', iv: buf(nonce), additionalData: buf(aad) },
      key,
      buf(secret),
    ),
  );
  secret.fill(0);
  return encodeDeterministic({ ...publicPart, scrypt, nonce, sealed });
}

/** Reads the public part only: no passphrase needed. */
export function keystoreInfo(file: Uint8Array): {
  username: string;
  signingKey: Uint8Array;
  encryptionKey: Uint8Array;
  encrypted: boolean;
} {
  const parsed = parseFile(file);
  return {
    username: parsed.username,
    signingKey: parsed.signingKey,
    encryptionKey: parsed.encryptionKey,
    encrypted: parsed.sealed !== undefined,
  };
}

function parseFile(file: Uint8Array) {
  try {
    const parsed = fileSchema(decodeStrict(file, { maxBytes: 8192, maxDepth: 4 }), 'keystore');
    const isPlain = parsed.plain !== undefined;
    const isSealed =
      parsed.scrypt !== undefined && parsed.nonce !== undefined && parsed.sealed !== undefined;
    if (isPlain === isSealed) throw new Error('keystore is neither plain nor sealed');
    return parsed;
  } catch (cause) {
    throw sispError('E_PASSPHRASE', 'the key file is damaged or not a sisp key file', { cause });
  }
}

export async function openKeystore(file: Uint8Array, passphrase?: string): Promise<UnlockedKeys> {
  const parsed = parseFile(file);
  let secret: Uint8Array;
  if (parsed.plain !== undefined) {
    secret = parsed.plain;
  } else {
    const { scrypt, nonce, sealed } = parsed;
    if (scrypt === undefined || nonce === undefined || sealed === undefined)
      throw sispError('E_PASSPHRASE');
    if (passphrase === undefined)
      throw sispError('E_PASSPHRASE', 'this key file needs its passphrase');
    const key = await deriveKey(passphrase, scrypt.salt, scrypt);
    const aad = encodeDeterministic({
      v: parsed.v,
      username: parsed.username,
      signingKey: parsed.signingKey,
      encryptionKey: parsed.encryptionKey,
      scrypt,
    });
    try {
      secret = new Uint8Array(
        await subtle().decrypt(
          { name: 'AES-GCM', iv: buf(nonce), additionalData: buf(aad) },
          key,
          buf(sealed),
        ),
      );
    } catch {
      throw sispError('E_PASSPHRASE', 'wrong passphrase, or the key file is damaged');
    }
  }
  const keys = secretSchema(decodeStrict(secret, { maxBytes: 1024, maxDepth: 2 }), 'secret');
  const identity: Identity = {
    signing: await keyPair(keys.signing, parsed.signingKey, 'Ed25519'),
    encryption: await keyPair(keys.encryption, parsed.encryptionKey, 'X25519'),
  };
  return { username: parsed.username, identity };
}

function okp(crv: 'Ed25519' | 'X25519', x: string, d?: string): JsonWebKey {
  return d === undefined ? { kty: 'OKP', crv, x } : { kty: 'OKP', crv, x, d };
}

function inconsistent(): never {
  throw sispError('E_PASSPHRASE', 'the key file is inconsistent');
}

/**
 * A private key from the file and its public half, which must be the public key the
 * file names (or the file was spliced). The plain RFC 8410 PKCS#8 form is imported
 * as JWK: OpenSSL 3's DER decoders make a PKCS#8 import ~8x dearer (0.45 against
 * 0.06 ms), paid on every sign-in. Node refuses a JWK whose public part is not the
 * private key's; the comparison below holds the check wherever that is not so.
 */
async function keyPair(
  pkcs8: Uint8Array,
  publicRaw: Uint8Array,
  name: 'Ed25519' | 'X25519',
): Promise<CryptoKeyPair> {
  const prefix = name === 'Ed25519' ? ED25519_PKCS8_PREFIX : X25519_PKCS8_PREFIX;
  const privateUsages: KeyUsage[] = name === 'Ed25519' ? ['sign'] : ['deriveBits'];
  const publicUsages: KeyUsage[] = name === 'Ed25519' ? ['verify'] : [];
  const x = toBase64Url(publicRaw);
  const plain =
    pkcs8.length === prefix.length + 32 && equalBytes(pkcs8.subarray(0, prefix.length), prefix);
  const privateKey = plain
    ? await subtle()
        .importKey(
          'jwk',
          okp(name, x, toBase64Url(pkcs8.subarray(prefix.length))),
          { name },
          true,
          privateUsages,
        )
        .catch(inconsistent)
    : await importPkcs8(pkcs8, name);
  if ((await subtle().exportKey('jwk', privateKey)).x !== x) inconsistent();
  const publicKey = await subtle().importKey(
    'jwk',
    { ...okp(name, x), key_ops: publicUsages },
    { name },
    true,
    publicUsages,
  );
  return { privateKey, publicKey };
}
