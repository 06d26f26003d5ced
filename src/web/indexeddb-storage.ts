/**
 * ClientStorage in a browser's IndexedDB (one database per origin): the server's
 * address and CA, pins, certificates verified before, and the identity, whose private keys are stored as
 * non-extractable CryptoKeys (IndexedDB keeps CryptoKey objects as they are), so
 * script on the page can use them but never read them out. The one way out is the
 * identity file's key file, sealed under a passphrase the person chose when the keys
 * were made (or imported), kept here as it is sealed (readKeyFile).
 */
import { sealKeystore } from '../crypto/keystore.js';
import { subtle } from '../crypto/webcrypto.js';
import type { Identity } from '../crypto/keys.js';
import {
  identityExists,
  noIdentity,
  keepVerified,
  type ClientStorage,
  type Pin,
  type StoredConfig,
  type StoredIdentity,
  type VerifiedRecord,
} from '../core/storage.js';

const STORE = 'sisp';

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => {
      resolve(req.result);
    };
    req.onerror = () => {
      reject(req.error ?? new Error('IndexedDB request failed'));
    };
  });
}

/** A private key made non-extractable: re-imported from its PKCS#8 once, at save. */
async function sealed(
  pair: CryptoKeyPair,
  algorithm: 'Ed25519' | 'X25519',
): Promise<CryptoKeyPair> {
  if (!pair.privateKey.extractable) return pair;
  const pkcs8 = await subtle().exportKey('pkcs8', pair.privateKey);
  const usages: KeyUsage[] = algorithm === 'Ed25519' ? ['sign'] : ['deriveBits'];
  const privateKey = await subtle().importKey('pkcs8', pkcs8, { name: algorithm }, false, usages);
  return { privateKey, publicKey: pair.publicKey };
}

export class IndexedDbStorage implements ClientStorage {
  readonly location = 'this browser';
  readonly #db: IDBDatabase;

  private constructor(db: IDBDatabase) {
    this.#db = db;
  }

  static async open(name = 'sisp'): Promise<IndexedDbStorage> {
    const opening = indexedDB.open(name, 1);
    opening.onupgradeneeded = () => {
      opening.result.createObjectStore(STORE);
    };
    return new IndexedDbStorage(await request(opening));
  }

  close(): void {
    this.#db.close();
  }

  async #get<T>(key: string): Promise<T | undefined> {
    const tx = this.#db.transaction(STORE, 'readonly');
    return (await request(tx.objectStore(STORE).get(key))) as T | undefined;
  }

  async #put(key: string, value: unknown): Promise<void> {
    const tx = this.#db.transaction(STORE, 'readwrite');
    await request(tx.objectStore(STORE).put(value, key));
  }

  readConfig(): Promise<StoredConfig | undefined> {
    return this.#get<StoredConfig>('config');
  }

  writeConfig(config: StoredConfig): Promise<void> {
    return this.#put('config', config);
  }

  readCa(): Promise<string | undefined> {
    return this.#get<string>('ca');
  }

  writeCa(pem: string): Promise<void> {
    return this.#put('ca', pem);
  }

  async hasIdentity(): Promise<boolean> {
    return (await this.#get('identity')) !== undefined;
  }

  async loadIdentity(): Promise<StoredIdentity> {
    const stored = await this.#get<{ username: string; identity: Identity }>('identity');
    if (stored === undefined) throw noIdentity(this.location);
    return stored;
  }

  /**
   * Stores the keys non-extractable. With a passphrase, also keeps them sealed under
   * it, while they can still be read, so they can be exported later.
   */
  async saveIdentity(stored: StoredIdentity, passphrase?: string): Promise<void> {
    if (await this.hasIdentity()) throw identityExists(this.location);
    if (passphrase !== undefined && passphrase !== '')
      await this.saveKeyFile(await sealKeystore(stored.username, stored.identity, { passphrase }));
    const identity = {
      signing: await sealed(stored.identity.signing, 'Ed25519'),
      encryption: await sealed(stored.identity.encryption, 'X25519'),
    };
    await this.#put('identity', { username: stored.username, identity });
  }

  /** The keys sealed under a passphrase, for an identity file; undefined if none was chosen. */
  readKeyFile(): Promise<Uint8Array | undefined> {
    return this.#get<Uint8Array>('keyfile');
  }

  saveKeyFile(sealed: Uint8Array): Promise<void> {
    return this.#put('keyfile', sealed);
  }

  /** Pins are kept as a Map: a username is never looked up among an object's properties. */
  async #pins(): Promise<Map<string, Pin>> {
    return (await this.#get<Map<string, Pin>>('pins')) ?? new Map<string, Pin>();
  }

  async getPin(username: string): Promise<Pin | undefined> {
    return (await this.#pins()).get(username);
  }

  /** Read, change and write in one transaction: two pins saved at once both stay. */
  savePin(username: string, pin: Pin): Promise<void> {
    return this.#update<Map<string, Pin>>('pins', (pins = new Map<string, Pin>()) =>
      pins.set(username, pin),
    );
  }

  async readVerified(key: string): Promise<VerifiedRecord | undefined> {
    return (await this.#get<Map<string, VerifiedRecord>>('verified'))?.get(key);
  }

  saveVerified(key: string, record: VerifiedRecord): Promise<void> {
    return this.#update<Map<string, VerifiedRecord>>(
      'verified',
      (records = new Map<string, VerifiedRecord>()) => keepVerified(records, key, record),
    );
  }

  #update<T>(key: string, change: (value: T | undefined) => T): Promise<void> {
    return new Promise((resolve, reject) => {
      const tx = this.#db.transaction(STORE, 'readwrite');
      const store = tx.objectStore(STORE);
      const read = store.get(key);
      read.onsuccess = () => {
        store.put(change(read.result as T | undefined), key);
      };
      tx.oncomplete = () => {
        resolve();
      };
      tx.onerror = () => {
        reject(tx.error ?? new Error('IndexedDB transaction failed'));
      };
      tx.onabort = () => {
        reject(tx.error ?? new Error('IndexedDB transaction aborted'));
      };
    });
  }

  async listPins(): Promise<readonly (readonly [string, Pin])[]> {
    return [...(await this.#pins())].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }
}
