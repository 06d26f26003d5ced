/**
 * HPKE base mode (RFC 9180) on Node's OpenSSL: DHKEM(X25519, HKDF-SHA256),
 * HKDF-SHA256 and AES-GCM, single-shot seal and open, behind the same `seal`/`open`
 * interface as @hpke/core's CipherSuite (crypto/hpke.ts HpkeSuite). @hpke/core goes
 * through WebCrypto, a promise hop and a copy per step (~1 ms a wrap here); this does
 * the same steps synchronously in OpenSSL (~0.1 ms). No primitive is written here:
 * X25519 is `diffieHellman`, HKDF is `hkdfSync` (Extract alone, where the RFC's key
 * schedule needs it, is the HMAC that RFC 5869 defines it as), AES-GCM is `createCipheriv`.
 * Held to the RFC's vectors and to @hpke/core's output both ways (test/node/hpke.test.ts).
 * Node-only: imported by client/ and server/.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  hkdfSync,
  generateKeyPairSync,
  KeyObject,
} from 'node:crypto';
import type { HpkeSuite } from '../crypto/hpke.js';

type HpkeAead = 'aes-128-gcm' | 'aes-256-gcm';
type Bytes = ArrayBufferLike | ArrayBufferView;

const AEAD_ID: Record<HpkeAead, number> = { 'aes-128-gcm': 0x0001, 'aes-256-gcm': 0x0002 };
const KEY_SIZE: Record<HpkeAead, number> = { 'aes-128-gcm': 16, 'aes-256-gcm': 32 };
const KEM_ID = 0x0020; // DHKEM(X25519, HKDF-SHA256)
const KDF_ID = 0x0001; // HKDF-SHA256
const NONCE_SIZE = 12;
const TAG_SIZE = 16;
const NPK = 32;
const HPKE_V1 = Buffer.from('HPKE-v1');
const ZERO_SALT = Buffer.alloc(32);
// DER prefix of an X25519 PKCS#8 private key (RFC 8410), the raw key after.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

function i2osp2(n: number): Buffer {
  const out = Buffer.alloc(2);
  out.writeUInt16BE(n);
  return out;
}

function bytes(value: Bytes | undefined): Buffer {
  if (value === undefined) return Buffer.alloc(0);
  if (ArrayBuffer.isView(value))
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  return Buffer.from(value);
}

/** LabeledExtract and LabeledExpand (RFC 9180 4) under one suite id. */
class Labels {
  constructor(readonly suiteId: Buffer) {}

  ikm(label: string, ikm: Buffer): Buffer {
    return Buffer.concat([HPKE_V1, this.suiteId, Buffer.from(label), ikm]);
  }

  info(length: number, label: string, info: Buffer): Buffer {
    return Buffer.concat([i2osp2(length), HPKE_V1, this.suiteId, Buffer.from(label), info]);
  }

  /** LabeledExtract(salt, label, ikm): HKDF-Extract, which RFC 5869 defines as this HMAC. */
  extract(salt: Buffer, label: string, ikm: Buffer): Buffer {
    return createHmac('sha256', salt.length === 0 ? ZERO_SALT : salt)
      .update(this.ikm(label, ikm))
      .digest();
  }

  /** LabeledExpand(LabeledExtract(salt, extractLabel, ikm), expandLabel, info, length). */
  extractAndExpand(
    salt: Buffer,
    extractLabel: string,
    ikm: Buffer,
    expandLabel: string,
    info: Buffer,
    length: number,
  ): Buffer {
    const ikmLabelled = this.ikm(extractLabel, ikm);
    const infoLabelled = this.info(length, expandLabel, info);
    return Buffer.from(hkdfSync('sha256', ikmLabelled, salt, infoLabelled, length));
  }
}

const KEM = new Labels(Buffer.concat([Buffer.from('KEM'), i2osp2(KEM_ID)]));

/** Raw bytes to a key object, through JWK: a DER import goes through OpenSSL 3's decoders, ~4x slower. */
export function x25519PublicFromRaw(raw: Buffer): KeyObject {
  if (raw.length !== NPK) throw new RangeError('an X25519 public key is 32 bytes');
  return createPublicKey({
    key: { kty: 'OKP', crv: 'X25519', x: raw.toString('base64url') },
    format: 'jwk',
  });
}

function privateFromRaw(raw: Buffer): KeyObject {
  return createPrivateKey({
    key: Buffer.concat([PKCS8_PREFIX, raw]),
    format: 'der',
    type: 'pkcs8',
  });
}

/** u = 9, X25519's base point (RFC 7748 4.1). */
const BASE_POINT = x25519PublicFromRaw(Buffer.concat([Buffer.of(9), Buffer.alloc(31)]));

/**
 * A private key's public key as X25519(sk, 9), by the DH function itself (RFC 7748
 * 6.1). Not by exporting the key object: on Node 20 a JWK or DER export holds the
 * key's lock while it allocates, and a garbage collection that finalises the job that
 * generated the key then takes the same lock: the process deadlocks (seen in the
 * crypto benchmark; gdb showed ExportJWKEdKey -> GC -> ~KeyGenJob -> mutex). So no
 * key that a KeyGenJob made is exported here; DH allocates its result outside the lock.
 */
function publicOf(privateKey: KeyObject): Buffer {
  return diffieHellman({ privateKey, publicKey: BASE_POINT });
}

function keyPairOf(privateKey: KeyObject): { privateKey: KeyObject; publicKey: Buffer } {
  return { privateKey, publicKey: publicOf(privateKey) };
}

/** DeriveKeyPair(ikm) for X25519 (RFC 9180 7.1.3): what test vectors fix the ephemeral key with. */
export function deriveX25519KeyPair(ikm: Uint8Array): { privateKey: KeyObject; publicKey: Buffer } {
  const empty = Buffer.alloc(0);
  const sk = KEM.extractAndExpand(empty, 'dkp_prk', bytes(ikm), 'sk', empty, 32);
  const privateKey = privateFromRaw(sk);
  sk.fill(0);
  return keyPairOf(privateKey);
}

/** GenerateKeyPair, the public half by DH with the base point rather than an export. */
function generateX25519KeyPair(): { privateKey: KeyObject; publicKey: Buffer } {
  return keyPairOf(generateKeyPairSync('x25519').privateKey);
}

function x25519Key(key: CryptoKey, type: 'private' | 'public'): KeyObject {
  const object = KeyObject.from(key);
  if (object.type !== type || object.asymmetricKeyType !== 'x25519') {
    throw new TypeError(`expected an X25519 ${type} key`);
  }
  return object;
}

/** DHKEM's ExtractAndExpand(dh, kem_context) (RFC 9180 4.1); wipes the DH output. */
function kemSharedSecret(secret: Buffer, kemContext: Buffer): Buffer {
  const empty = Buffer.alloc(0);
  const shared = KEM.extractAndExpand(empty, 'eae_prk', secret, 'shared_secret', kemContext, 32);
  secret.fill(0);
  return shared;
}

// Raw public keys, worked out once per key object: the recipient's own for Decap
// (pkRm), and each recipient's for Encap's kem_context.
const rawPublics = new WeakMap<KeyObject, Buffer>();

function recipientPublicRaw(privateKey: KeyObject): Buffer {
  let raw = rawPublics.get(privateKey);
  if (raw === undefined) {
    raw = publicOf(privateKey);
    rawPublics.set(privateKey, raw);
  }
  return raw;
}

/**
 * The raw bytes of a recipient's public key. An export, once per key object: safe for
 * keys imported from bytes, as wrapContentKey's are (the deadlock above needs a key
 * that a garbage KeyGenJob generated).
 */
function rawPublic(publicKey: KeyObject): Buffer {
  let raw = rawPublics.get(publicKey);
  if (raw === undefined) {
    const { x } = publicKey.export({ format: 'jwk' });
    if (typeof x !== 'string') throw new TypeError('not an X25519 public key');
    raw = Buffer.from(x, 'base64url');
    rawPublics.set(publicKey, raw);
  }
  return raw;
}

interface Schedule {
  readonly key: Buffer;
  readonly nonce: Buffer;
}

/** The single-shot HPKE suite; AES-128-GCM exists only to run RFC 9180's A.1 vectors. */
export class NodeHpkeSuite implements HpkeSuite {
  readonly #aead: HpkeAead;
  readonly #labels: Labels;
  readonly #pskIdHash: Buffer;

  constructor(aead: HpkeAead = 'aes-256-gcm') {
    this.#aead = aead;
    this.#labels = new Labels(
      Buffer.concat([Buffer.from('HPKE'), i2osp2(KEM_ID), i2osp2(KDF_ID), i2osp2(AEAD_ID[aead])]),
    );
    this.#pskIdHash = this.#labels.extract(Buffer.alloc(0), 'psk_id_hash', Buffer.alloc(0));
  }

  seal: HpkeSuite['seal'] = (params, pt, aad) => {
    try {
      refuseModes(params);
      const { enc, sharedSecret } = this.#encap(params.recipientPublicKey, params.ekm);
      const { key, nonce } = this.#schedule(sharedSecret, bytes(params.info));
      const cipher = createCipheriv(this.#aead, key, nonce);
      if (aad !== undefined) cipher.setAAD(bytes(aad));
      const ct = Buffer.concat([cipher.update(bytes(pt)), cipher.final(), cipher.getAuthTag()]);
      return Promise.resolve({ enc: arrayBuffer(enc), ct: arrayBuffer(ct) });
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error('HPKE seal failed'));
    }
  };

  open: HpkeSuite['open'] = (params, ct, aad) => {
    try {
      refuseModes(params);
      if ('privateKey' in params.recipientKey) throw new TypeError('pass the private key alone');
      const sharedSecret = this.#decap(params.recipientKey, bytes(params.enc));
      const { key, nonce } = this.#schedule(sharedSecret, bytes(params.info));
      const sealed = bytes(ct);
      if (sealed.length < TAG_SIZE) throw new RangeError('ciphertext shorter than its tag');
      const decipher = createDecipheriv(this.#aead, key, nonce, { authTagLength: TAG_SIZE });
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG_SIZE));
      if (aad !== undefined) decipher.setAAD(bytes(aad));
      const body = sealed.subarray(0, sealed.length - TAG_SIZE);
      const pt = Buffer.concat([decipher.update(body), decipher.final()]);
      return Promise.resolve(arrayBuffer(pt));
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error('HPKE open failed'));
    }
  };

  /** Encap (RFC 9180 4.1); `ekm` is DeriveKeyPair's ikm or a CryptoKeyPair, for vectors. */
  #encap(
    recipient: CryptoKey,
    ekm: Parameters<HpkeSuite['seal']>[0]['ekm'],
  ): { enc: Buffer; sharedSecret: Buffer } {
    const pkR = x25519Key(recipient, 'public');
    const ephemeral =
      ekm === undefined
        ? generateX25519KeyPair()
        : 'privateKey' in ekm
          ? keyPairOf(x25519Key(ekm.privateKey, 'private'))
          : deriveX25519KeyPair(bytes(ekm));
    // OpenSSL refuses an all-zero output (a low-order peer key), as RFC 9180 7.1.4 asks.
    const secret = diffieHellman({ privateKey: ephemeral.privateKey, publicKey: pkR });
    const enc = ephemeral.publicKey;
    return { enc, sharedSecret: kemSharedSecret(secret, Buffer.concat([enc, rawPublic(pkR)])) };
  }

  #decap(recipient: CryptoKey, enc: Buffer): Buffer {
    const skR = x25519Key(recipient, 'private');
    const secret = diffieHellman({ privateKey: skR, publicKey: x25519PublicFromRaw(enc) });
    return kemSharedSecret(secret, Buffer.concat([enc, recipientPublicRaw(skR)]));
  }

  /** KeySchedule for mode_base (RFC 9180 5.1): no PSK, so psk and psk_id are empty. */
  #schedule(sharedSecret: Buffer, info: Buffer): Schedule {
    const infoHash = this.#labels.extract(Buffer.alloc(0), 'info_hash', info);
    const context = Buffer.concat([Buffer.of(0x00), this.#pskIdHash, infoHash]);
    const empty = Buffer.alloc(0);
    const expand = (label: string, length: number) =>
      this.#labels.extractAndExpand(sharedSecret, 'secret', empty, label, context, length);
    const schedule = {
      key: expand('key', KEY_SIZE[this.#aead]),
      nonce: expand('base_nonce', NONCE_SIZE),
    };
    sharedSecret.fill(0);
    return schedule;
  }
}

/** Only base mode: a PSK or sender key asks for a mode this suite does not do. */
function refuseModes(params: { psk?: unknown; senderKey?: unknown; senderPublicKey?: unknown }) {
  if (
    params.psk !== undefined ||
    params.senderKey !== undefined ||
    params.senderPublicKey !== undefined
  )
    throw new TypeError('only HPKE base mode is supported');
}

function arrayBuffer(value: Buffer): ArrayBuffer {
  const out = new ArrayBuffer(value.length);
  new Uint8Array(out).set(value);
  return out;
}

/** One suite for the process, as crypto/hpke.ts keeps one @hpke/core suite. */
export const nodeHpke: HpkeSuite = new NodeHpkeSuite();
