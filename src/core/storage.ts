/**
 * The ClientStorage port: where a client keeps which server it uses, that server's
 * CA, its own identity and the keys it has pinned for other users. The CLI keeps
 * them in a home folder (client/home.ts); a browser keeps them in IndexedDB;
 * MemoryStorage keeps them for the life of the process. Every implementation runs
 * the same conformance suite (test/conformance/client-storage.ts).
 */
import { sispError } from '../protocol/errors.js';
import type { Identity } from '../crypto/keys.js';

export interface StoredConfig {
  /** wss://HOST:PORT/ */
  readonly server: string;
  readonly username?: string;
}

/** A user's keys as first seen (trust on first use). */
export interface Pin {
  readonly signingKey: Uint8Array;
  readonly encryptionKey: Uint8Array;
  /** The readable fingerprint, for messages. */
  readonly fingerprint: string;
  /** ISO 8601. */
  readonly firstSeen: string;
}

export interface StoredIdentity {
  readonly username: string;
  readonly identity: Identity;
}

/**
 * What a full verification of a certificate against the pinned CA found
 * (core/verified.ts), kept so that a later process can accept the same bytes without
 * loading and running the X.509 parser. `notAfter` in ms since the epoch.
 */
export type VerifiedRecord =
  | {
      readonly kind: 'user';
      readonly username: string;
      readonly signingKey: Uint8Array;
      readonly encryptionKey: Uint8Array;
      readonly serial: string;
      readonly notAfter: number;
    }
  | { readonly kind: 'server'; readonly encryptionKey: Uint8Array; readonly notAfter: number };

export interface ClientStorage {
  /** Where this storage lives, for messages: a folder, "this browser", "memory". */
  readonly location: string;
  readConfig(): Promise<StoredConfig | undefined>;
  writeConfig(config: StoredConfig): Promise<void>;
  /** The server's CA certificate, PEM. */
  readCa(): Promise<string | undefined>;
  writeCa(pem: string): Promise<void>;
  hasIdentity(): Promise<boolean>;
  /**
   * The identity, unlocked. E_AUTH if there is none; E_PASSPHRASE if it is locked
   * and the passphrase is missing or wrong.
   */
  loadIdentity(passphrase?: string): Promise<StoredIdentity>;
  /** Stores a new identity (under the passphrase, if given). E_EXISTS if there is one. */
  saveIdentity(stored: StoredIdentity, passphrase?: string): Promise<void>;
  getPin(username: string): Promise<Pin | undefined>;
  /** Adds or replaces the pin for `username`. */
  savePin(username: string, pin: Pin): Promise<void>;
  /** Every pin, by username in order. */
  listPins(): Promise<readonly (readonly [string, Pin])[]>;
  /**
   * Certificates verified in full before, by key (core/verified.ts). A cache: an
   * implementation may keep a bounded number, forget any, keep none across reopening,
   * and treat a damaged copy as empty; what it returns for a key is what was last saved
   * under that key.
   */
  readVerified(key: string): Promise<VerifiedRecord | undefined>;
  saveVerified(key: string, record: VerifiedRecord): Promise<void>;
}

/** The verified certificates a storage keeps at most (own, server, recent peers). */
export const VERIFIED_KEPT = 64;

/**
 * Puts `record` under `key` as the newest, and forgets the oldest beyond
 * VERIFIED_KEPT: how every storage bounds its verified certificates.
 */
export function keepVerified(
  records: Map<string, VerifiedRecord>,
  key: string,
  record: VerifiedRecord,
): Map<string, VerifiedRecord> {
  records.delete(key);
  records.set(key, record);
  for (const oldest of records.keys()) {
    if (records.size <= VERIFIED_KEPT) break;
    records.delete(oldest);
  }
  return records;
}

export function noIdentity(location: string): Error {
  return sispError('E_AUTH', `no keys in ${location}: run "sisp register <username>" first`);
}

export function identityExists(location: string): Error {
  return sispError('E_EXISTS', `keys already exist in ${location}; use another home`);
}

/**
 * Everything in memory, for the life of the process: tests, and a page that must
 * not persist anything. Keys stay CryptoKeys, as IndexedDB would keep them.
 */
export class MemoryStorage implements ClientStorage {
  readonly location = 'memory';
  #config: StoredConfig | undefined;
  #ca: string | undefined;
  #identity: StoredIdentity | undefined;
  readonly #pins = new Map<string, Pin>();
  readonly #verified = new Map<string, VerifiedRecord>();

  readConfig(): Promise<StoredConfig | undefined> {
    return Promise.resolve(this.#config);
  }
  writeConfig(config: StoredConfig): Promise<void> {
    this.#config = { ...config };
    return Promise.resolve();
  }
  readCa(): Promise<string | undefined> {
    return Promise.resolve(this.#ca);
  }
  writeCa(pem: string): Promise<void> {
    this.#ca = pem;
    return Promise.resolve();
  }
  hasIdentity(): Promise<boolean> {
    return Promise.resolve(this.#identity !== undefined);
  }
  loadIdentity(): Promise<StoredIdentity> {
    const stored = this.#identity;
    return stored === undefined
      ? Promise.reject(noIdentity(this.location))
      : Promise.resolve(stored);
  }
  saveIdentity(stored: StoredIdentity): Promise<void> {
    if (this.#identity !== undefined) return Promise.reject(identityExists(this.location));
    this.#identity = stored;
    return Promise.resolve();
  }
  getPin(username: string): Promise<Pin | undefined> {
    return Promise.resolve(this.#pins.get(username));
  }
  savePin(username: string, pin: Pin): Promise<void> {
    this.#pins.set(username, pin);
    return Promise.resolve();
  }
  listPins(): Promise<readonly (readonly [string, Pin])[]> {
    return Promise.resolve([...this.#pins].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }
  readVerified(key: string): Promise<VerifiedRecord | undefined> {
    return Promise.resolve(this.#verified.get(key));
  }
  saveVerified(key: string, record: VerifiedRecord): Promise<void> {
    keepVerified(this.#verified, key, record);
    return Promise.resolve();
  }
}
