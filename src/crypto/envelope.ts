/**
 * The image envelope: C2SP chunked encryption, Cobblestone-256
 * (https://c2sp.org/chunked-encryption). Keys, nonce and commitment come from
 * HKDF-Expand-SHA-512 over the input key; the message is sealed in 16 KiB chunks
 * with AES-256-GCM, nonce = base nonce XOR chunk counter, empty AAD; the last
 * chunk is always shorter than 16 KiB (possibly empty), which is what makes
 * truncation at a chunk boundary detectable.
 *
 * Ciphertext = salt (24) || commitment (32) || sealed chunks.
 *
 * Memory: each encryptor and decryptor holds one chunk of staging whatever the
 * message size. A decryptor that fails stays failed: every later call throws, so a
 * consumer can never mistake a tampered stream for a clean end.
 */
import { checkBytes, concatBytes, equalBytes, utf8 } from '../protocol/bytes.js';
import { sispError, type SispError } from '../protocol/errors.js';
import {
  AES_256_GCM_KEY,
  GCM_NONCE,
  GCM_TAG,
  webCryptoAes256Gcm,
  type Aead,
  type AeadFactory,
} from './aead.js';
import { hkdfExpand } from './hkdf.js';
import { randomBytes } from './webcrypto.js';

export const CHUNK_SIZE = 16 * 1024;
export const SEALED_CHUNK_SIZE = CHUNK_SIZE + GCM_TAG;
export const SALT_SIZE = 24;
export const COMMITMENT_SIZE = 32;
export const HEADER_SIZE = SALT_SIZE + COMMITMENT_SIZE;
export const INPUT_KEY_SIZE = AES_256_GCM_KEY;
/** The C2SP limit: 2^38 chunks, about 4 PiB. */
const MAX_CHUNKS = 2 ** 38;

const LABEL = utf8('c2sp.org/chunked-encryption@v1+AEAD_AES_256_GCM');

export interface EnvelopeKeys {
  readonly aeadKey: Uint8Array;
  readonly baseNonce: Uint8Array;
  readonly commitment: Uint8Array;
}

export interface EnvelopeOptions {
  /** 32 uniformly random bytes, fresh for each image. */
  readonly key: Uint8Array;
  /** Binds the ciphertext to its use; sisp puts the image id here (see envelopeContext). */
  readonly context: Uint8Array;
  /** AEAD implementation; WebCrypto by default. */
  readonly aead?: AeadFactory;
}

export function generateContentKey(): Uint8Array {
  return randomBytes(INPUT_KEY_SIZE);
}

/** Length of the ciphertext for a plaintext of the given length. */
export function sealedLength(plaintextLength: number): number {
  const fullChunks = Math.floor(plaintextLength / CHUNK_SIZE);
  const rest = plaintextLength - fullChunks * CHUNK_SIZE;
  return HEADER_SIZE + fullChunks * SEALED_CHUNK_SIZE + rest + GCM_TAG;
}

/** Plaintext length for a well-formed ciphertext length, or null if none maps to it. */
export function plaintextLength(ciphertextLength: number): number | null {
  const body = ciphertextLength - HEADER_SIZE;
  if (!Number.isSafeInteger(body) || body < GCM_TAG) return null;
  const fullChunks = Math.floor(body / SEALED_CHUNK_SIZE);
  const rest = body - fullChunks * SEALED_CHUNK_SIZE;
  if (rest < GCM_TAG) return null;
  return fullChunks * CHUNK_SIZE + rest - GCM_TAG;
}

export function deriveEnvelopeKeys(
  key: Uint8Array,
  salt: Uint8Array,
  context: Uint8Array,
): EnvelopeKeys {
  checkBytes('salt', salt, SALT_SIZE);
  checkBytes('context', context);
  if (!(key instanceof Uint8Array) || key.length !== INPUT_KEY_SIZE) {
    throw sispError('E_BAD_KEY', 'the content key must be 32 bytes');
  }
  const info = concatBytes(LABEL, new Uint8Array([0]), salt, context);
  const okm = hkdfExpand('SHA-512', key, info, AES_256_GCM_KEY + GCM_NONCE + COMMITMENT_SIZE);
  return {
    aeadKey: okm.slice(0, AES_256_GCM_KEY),
    baseNonce: okm.slice(AES_256_GCM_KEY, AES_256_GCM_KEY + GCM_NONCE),
    commitment: okm.slice(AES_256_GCM_KEY + GCM_NONCE),
  };
}

/** base nonce XOR the big-endian chunk counter. */
export function chunkNonce(baseNonce: Uint8Array, counter: number): Uint8Array {
  const nonce = baseNonce.slice();
  let value = counter;
  for (let i = GCM_NONCE - 1; i >= 0 && value > 0; i--) {
    nonce[i] = (nonce[i] ?? 0) ^ (value % 256);
    value = Math.floor(value / 256);
  }
  return nonce;
}

function tampered(why: string): SispError {
  return sispError('E_TAMPERED', 'the encrypted image failed verification', { detail: why });
}

/** Seals one message. Call update() any number of times, then finish() once. */
export class EnvelopeEncryptor {
  readonly #aead: Aead;
  readonly #baseNonce: Uint8Array;
  readonly #header: Uint8Array;
  #staging = new Uint8Array(CHUNK_SIZE);
  #staged = 0;
  #counter = 0;
  #finished = false;

  private constructor(aead: Aead, keys: EnvelopeKeys, salt: Uint8Array) {
    this.#aead = aead;
    this.#baseNonce = keys.baseNonce;
    this.#header = concatBytes(salt, keys.commitment);
  }

  /** `salt` is for test vectors only; real use takes a fresh random one. */
  static async create(
    options: EnvelopeOptions & { readonly salt?: Uint8Array },
  ): Promise<EnvelopeEncryptor> {
    const salt = options.salt ?? randomBytes(SALT_SIZE);
    const keys = deriveEnvelopeKeys(options.key, salt, options.context);
    const aead = await (options.aead ?? webCryptoAes256Gcm)(keys.aeadKey);
    return new EnvelopeEncryptor(aead, keys, salt);
  }

  /** salt || commitment: the first 56 bytes of the ciphertext. */
  header(): Uint8Array {
    return this.#header;
  }

  /**
   * Seals every complete chunk now available; returns the sealed bytes in order.
   * A chunk may come back as two pieces (ciphertext, then tag) with backends that
   * produce them separately; only the concatenation is meaningful.
   */
  async update(plaintext: Uint8Array): Promise<Uint8Array[]> {
    checkBytes('plaintext', plaintext);
    if (this.#finished) throw new Error('EnvelopeEncryptor: update after finish');
    if (this.#staged + plaintext.length < CHUNK_SIZE) {
      this.#staging.set(plaintext, this.#staged);
      this.#staged += plaintext.length;
      return [];
    }
    // Every chunk of this piece is sealed at once and awaited together: with an
    // asynchronous AEAD (WebCrypto runs off the page's thread) the calls overlap
    // instead of paying one thread hop each. Nonces are taken in order at call time.
    const out: Uint8Array[] = [];
    const pending: Promise<Uint8Array>[] = [];
    let offset = 0;
    if (this.#staged > 0) {
      const take = Math.min(CHUNK_SIZE - this.#staged, plaintext.length);
      this.#staging.set(plaintext.subarray(0, take), this.#staged);
      this.#staged += take;
      offset = take;
      if (this.#staged === CHUNK_SIZE) {
        this.#sealInto(this.#staging, out, pending);
        // A fresh buffer: a seal in flight may still be reading the full one.
        this.#staging = new Uint8Array(CHUNK_SIZE);
        this.#staged = 0;
      }
    }
    // Whole chunks straight from the caller's buffer: no staging copy.
    while (plaintext.length - offset >= CHUNK_SIZE) {
      this.#sealInto(plaintext.subarray(offset, offset + CHUNK_SIZE), out, pending);
      offset += CHUNK_SIZE;
    }
    if (offset < plaintext.length) {
      this.#staging.set(plaintext.subarray(offset), this.#staged);
      this.#staged += plaintext.length - offset;
    }
    // One kind per AEAD: synchronous pieces, or seals in flight.
    return pending.length === 0 ? out : Promise.all(pending);
  }

  /** Seals the final, short chunk (empty if the message filled its last chunk). */
  async finish(): Promise<Uint8Array> {
    if (this.#finished) throw new Error('EnvelopeEncryptor: finish called twice');
    this.#finished = true;
    return this.#seal(this.#staging.subarray(0, this.#staged));
  }

  #sealInto(chunk: Uint8Array, out: Uint8Array[], pending: Promise<Uint8Array>[]): void {
    if (this.#aead.sealDetached === undefined) {
      pending.push(this.#seal(chunk));
      return;
    }
    if (this.#counter >= MAX_CHUNKS)
      throw sispError('E_TOO_LARGE', 'message too long for the envelope');
    out.push(...this.#aead.sealDetached(chunkNonce(this.#baseNonce, this.#counter++), chunk));
  }

  async #seal(chunk: Uint8Array): Promise<Uint8Array> {
    if (this.#counter >= MAX_CHUNKS)
      throw sispError('E_TOO_LARGE', 'message too long for the envelope');
    return this.#aead.seal(chunkNonce(this.#baseNonce, this.#counter++), chunk);
  }
}

/** Opens one message. update() releases plaintext only from authenticated chunks. */
export class EnvelopeDecryptor {
  readonly #key: Uint8Array;
  readonly #context: Uint8Array;
  readonly #aeadFactory: AeadFactory;
  #aead: Aead | undefined;
  #baseNonce: Uint8Array | undefined;
  /** Header bytes first, then one sealed chunk at a time. */
  #staging = new Uint8Array(HEADER_SIZE);
  #staged = 0;
  #counter = 0;
  #failure: SispError | undefined;
  #finished = false;

  constructor(options: EnvelopeOptions) {
    if (!(options.key instanceof Uint8Array) || options.key.length !== INPUT_KEY_SIZE) {
      throw sispError('E_BAD_KEY', 'the content key must be 32 bytes');
    }
    checkBytes('context', options.context);
    this.#key = options.key;
    this.#context = options.context;
    this.#aeadFactory = options.aead ?? webCryptoAes256Gcm;
  }

  update(ciphertext: Uint8Array): Promise<Uint8Array[]> {
    checkBytes('ciphertext', ciphertext);
    this.#throwIfFailed();
    if (this.#finished) throw new Error('EnvelopeDecryptor: update after finish');
    // Fast path for small pieces that complete nothing (a byte-at-a-time reader).
    if (this.#aead !== undefined && this.#staged + ciphertext.length < SEALED_CHUNK_SIZE) {
      this.#staging.set(ciphertext, this.#staged);
      this.#staged += ciphertext.length;
      return Promise.resolve([]);
    }
    return this.#consume(ciphertext).catch((error: unknown) => {
      throw this.#fail(error);
    });
  }

  /** Authenticates the final chunk; throws E_TAMPERED on any truncation. */
  async finish(): Promise<Uint8Array[]> {
    this.#throwIfFailed();
    if (this.#finished) throw new Error('EnvelopeDecryptor: finish called twice');
    try {
      if (this.#aead === undefined) throw tampered('ciphertext shorter than its header');
      // A full staged chunk was already opened; what remains must be a short final chunk.
      if (this.#staged < GCM_TAG) throw tampered('missing or truncated final chunk');
      const last = await this.#open(this.#staging.subarray(0, this.#staged));
      this.#finished = true;
      return [last];
    } catch (error) {
      throw this.#fail(error);
    }
  }

  async #consume(input: Uint8Array): Promise<Uint8Array[]> {
    // Chunks are opened together and awaited together (see EnvelopeEncryptor.update):
    // nothing is released unless every one of them authenticates.
    const out: Promise<Uint8Array>[] = [];
    let offset = 0;
    if (this.#aead === undefined) {
      const take = Math.min(HEADER_SIZE - this.#staged, input.length);
      this.#staging.set(input.subarray(0, take), this.#staged);
      this.#staged += take;
      offset = take;
      if (this.#staged < HEADER_SIZE) return [];
      await this.#readHeader(this.#staging);
      this.#staging = new Uint8Array(SEALED_CHUNK_SIZE);
      this.#staged = 0;
    }
    // A sealed chunk of full size is never the last one, so it can be opened as soon
    // as it is complete. Opening needs strictly more than a full chunk only to
    // decide nothing: the last chunk is recognised by being shorter, at finish().
    if (this.#staged > 0) {
      const take = Math.min(SEALED_CHUNK_SIZE - this.#staged, input.length - offset);
      this.#staging.set(input.subarray(offset, offset + take), this.#staged);
      this.#staged += take;
      offset += take;
      if (this.#staged < SEALED_CHUNK_SIZE) return [];
      out.push(this.#open(this.#staging));
      // A fresh buffer: the open in flight may still be reading the full one.
      this.#staging = new Uint8Array(SEALED_CHUNK_SIZE);
      this.#staged = 0;
    }
    while (input.length - offset >= SEALED_CHUNK_SIZE) {
      out.push(this.#open(input.subarray(offset, offset + SEALED_CHUNK_SIZE)));
      offset += SEALED_CHUNK_SIZE;
    }
    if (offset < input.length) {
      this.#staging.set(input.subarray(offset), 0);
      this.#staged = input.length - offset;
    }
    return Promise.all(out);
  }

  async #readHeader(header: Uint8Array): Promise<void> {
    const salt = header.subarray(0, SALT_SIZE);
    const commitment = header.subarray(SALT_SIZE, HEADER_SIZE);
    const keys = deriveEnvelopeKeys(this.#key, salt.slice(), this.#context);
    if (!equalBytes(keys.commitment, commitment)) {
      throw tampered('key commitment mismatch (wrong key, wrong context or modified header)');
    }
    this.#baseNonce = keys.baseNonce;
    this.#aead = await this.#aeadFactory(keys.aeadKey);
  }

  /** Takes the next chunk number now, so opens started together stay in order. */
  async #open(sealed: Uint8Array): Promise<Uint8Array> {
    const aead = this.#aead;
    const baseNonce = this.#baseNonce;
    if (aead === undefined || baseNonce === undefined) throw tampered('chunk before header');
    if (this.#counter >= MAX_CHUNKS) throw tampered('too many chunks');
    const index = this.#counter++;
    const plaintext = await aead.open(chunkNonce(baseNonce, index), sealed);
    if (plaintext === null) throw tampered(`chunk ${index} failed authentication`);
    return plaintext;
  }

  #fail(error: unknown): SispError {
    const failure =
      error instanceof Error && 'code' in error && error.name === 'SispError'
        ? (error as SispError)
        : tampered('decryption failed');
    this.#failure = failure;
    this.#staging = new Uint8Array(0);
    return failure;
  }

  #throwIfFailed(): void {
    if (this.#failure !== undefined) throw this.#failure;
  }
}
