/**
 * The CLI's ClientStorage: a home folder holding which server (config.json), its CA
 * (ca.pem), this user's keys (identity.key, 0600, optionally under a passphrase),
 * the keys pinned for other users (pins.json), the certificates it verified before
 * (verified.json, a cache) and downloads. Writes go to a
 * temporary file first, then a rename, so a crash never leaves a half-written file.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  identityExists,
  noIdentity,
  type ClientStorage,
  type Pin,
  type StoredConfig,
  type StoredIdentity,
  type VerifiedRecord,
} from '../core/storage.js';
import { fromHex, toHex } from '../protocol/bytes.js';
import { sispError } from '../protocol/errors.js';
import { VerifiedFile } from './verified-file.js';

type KeystoreInfo = ReturnType<typeof import('../crypto/keystore.js').keystoreInfo>;

// The keystore (scrypt, key import) loads when keys are read or written, not with the
// command tree, which builds a Home for every command (start-up, bench/README).
// Kept once loaded: each import() call resolves the specifier again, which a long-lived
// process signing in many times (sisp watch reconnecting, the benchmarks) pays for.
let keystoreModule: Promise<typeof import('../crypto/keystore.js')> | undefined;
const keystore = () => (keystoreModule ??= import('../crypto/keystore.js'));

export function defaultHome(env: NodeJS.ProcessEnv): string {
  if (env.SISP_HOME !== undefined && env.SISP_HOME !== '') return resolve(env.SISP_HOME);
  const base =
    env.XDG_CONFIG_HOME !== undefined && env.XDG_CONFIG_HOME !== ''
      ? env.XDG_CONFIG_HOME
      : join(homedir(), '.config');
  return resolve(base, 'sisp');
}

export async function writeAtomic(
  path: string,
  data: string | Uint8Array,
  mode: number,
): Promise<void> {
  // node:crypto loads here, not with the command tree (`sisp --help` builds a Home).
  const { randomBytes } = await import('node:crypto');
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temporary, data, { mode, flag: 'wx' });
  await chmod(temporary, mode);
  await rename(temporary, path);
}

/** pins.json keeps keys as hex, as it always has. */
interface PinFile {
  readonly signingKey: string;
  readonly encryptionKey: string;
  readonly fingerprint: string;
  readonly firstSeen: string;
}

export class Home implements ClientStorage {
  readonly dir: string;
  readonly #verified: VerifiedFile;

  constructor(dir: string) {
    this.dir = dir;
    this.#verified = new VerifiedFile(join(dir, 'verified.json'));
  }

  get location(): string {
    return this.dir;
  }
  get configPath(): string {
    return join(this.dir, 'config.json');
  }
  get caPath(): string {
    return join(this.dir, 'ca.pem');
  }
  get keyPath(): string {
    return join(this.dir, 'identity.key');
  }
  get pinsPath(): string {
    return join(this.dir, 'pins.json');
  }
  get downloads(): string {
    return join(this.dir, 'downloads');
  }

  async ensure(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
  }

  async readConfig(): Promise<StoredConfig | undefined> {
    if (!existsSync(this.configPath)) return undefined;
    try {
      const parsed = JSON.parse(await readFile(this.configPath, 'utf8')) as Partial<StoredConfig>;
      if (typeof parsed.server !== 'string') throw new Error('no server');
      return typeof parsed.username === 'string'
        ? { server: parsed.server, username: parsed.username }
        : { server: parsed.server };
    } catch {
      throw sispError('E_BAD_REQUEST', `the client configuration ${this.configPath} is damaged`);
    }
  }

  async writeConfig(config: StoredConfig): Promise<void> {
    await this.ensure();
    await writeAtomic(this.configPath, `${JSON.stringify(config, null, 2)}\n`, 0o600);
  }

  async readCa(): Promise<string | undefined> {
    return existsSync(this.caPath) ? readFile(this.caPath, 'utf8') : undefined;
  }

  async writeCa(pem: string): Promise<void> {
    await this.ensure();
    await writeAtomic(this.caPath, pem, 0o644);
  }

  hasIdentity(): Promise<boolean> {
    return Promise.resolve(existsSync(this.keyPath));
  }

  /** True if the keys are stored under a passphrase. */
  async isLocked(): Promise<boolean> {
    if (!existsSync(this.keyPath)) return false;
    const { keystoreInfo } = await keystore();
    return keystoreInfo(new Uint8Array(await readFile(this.keyPath))).encrypted;
  }

  /**
   * Refuses a home that others could change: a folder or file writable by its group
   * or by everyone, or owned by another user, could have its CA, pins or keys swapped.
   */
  async checkPermissions(): Promise<void> {
    const uid = process.getuid?.();
    const paths = [
      this.dir,
      this.configPath,
      this.caPath,
      this.keyPath,
      this.pinsPath,
      this.#verified.path,
    ];
    // At once: every command waits on these before it connects. A missing one is fine.
    const found = await Promise.all(
      paths.map(async (path) => ({ path, info: await stat(path).catch(() => undefined) })),
    );
    for (const { path, info } of found) {
      if (info === undefined) continue;
      const mode = (info.mode & 0o777).toString(8).padStart(3, '0');
      if ((info.mode & 0o022) !== 0)
        throw sispError(
          'E_FORBIDDEN',
          `${path} is writable by others (mode ${mode}); run: chmod go-w ${path}`,
        );
      if (uid !== undefined && info.uid !== uid)
        throw sispError('E_FORBIDDEN', `${path} belongs to another user; use a home of your own`);
    }
  }

  async loadIdentity(passphrase?: string): Promise<StoredIdentity> {
    if (!existsSync(this.keyPath)) throw noIdentity(this.dir);
    const { openKeystore } = await keystore();
    const keys = await openKeystore(new Uint8Array(await readFile(this.keyPath)), passphrase);
    return { username: keys.username, identity: keys.identity };
  }

  /** The key file as stored (sealed or not), for an identity file. */
  async readKeyFile(): Promise<Uint8Array> {
    if (!existsSync(this.keyPath)) throw noIdentity(this.dir);
    return new Uint8Array(await readFile(this.keyPath));
  }

  /** Public facts about the stored keys, readable without the passphrase. */
  async identityInfo(): Promise<KeystoreInfo> {
    if (!existsSync(this.keyPath)) throw noIdentity(this.dir);
    const { keystoreInfo } = await keystore();
    return keystoreInfo(new Uint8Array(await readFile(this.keyPath)));
  }

  /**
   * Seals the keys (as opened with the current passphrase) again under `next` (none:
   * stored unencrypted); the old file is replaced in one rename, so a crash leaves
   * one or the other.
   */
  async changePassphrase(stored: StoredIdentity, next: string | undefined): Promise<void> {
    const { sealKeystore } = await keystore();
    const file = await sealKeystore(
      stored.username,
      stored.identity,
      next === undefined ? {} : { passphrase: next },
    );
    await writeAtomic(this.keyPath, file, 0o600);
  }

  async saveIdentity(stored: StoredIdentity, passphrase?: string): Promise<void> {
    await this.ensure();
    if (existsSync(this.keyPath)) throw identityExists(this.dir);
    const { sealKeystore } = await keystore();
    const file = await sealKeystore(
      stored.username,
      stored.identity,
      passphrase === undefined ? {} : { passphrase },
    );
    await writeAtomic(this.keyPath, file, 0o600);
  }

  async #readPins(): Promise<Record<string, PinFile>> {
    if (!existsSync(this.pinsPath)) return {};
    try {
      return JSON.parse(await readFile(this.pinsPath, 'utf8')) as Record<string, PinFile>;
    } catch {
      throw sispError('E_BAD_REQUEST', `the pinned keys file ${this.pinsPath} is damaged`);
    }
  }

  async getPin(username: string): Promise<Pin | undefined> {
    const pins = await this.#readPins();
    if (!Object.hasOwn(pins, username)) return undefined;
    return this.#parsePin(pins[username]);
  }

  async listPins(): Promise<readonly (readonly [string, Pin])[]> {
    const pins = await this.#readPins();
    return Object.keys(pins)
      .sort()
      .map((username) => [username, this.#parsePin(pins[username])] as const);
  }

  #parsePin(entry: PinFile | undefined): Pin {
    const pin = (entry ?? {}) as Partial<Record<keyof PinFile, unknown>>;
    const { signingKey, encryptionKey, fingerprint, firstSeen } = pin;
    if (
      typeof signingKey !== 'string' ||
      typeof encryptionKey !== 'string' ||
      typeof fingerprint !== 'string' ||
      typeof firstSeen !== 'string'
    )
      throw sispError('E_BAD_REQUEST', `the pinned keys file ${this.pinsPath} is damaged`);
    try {
      return {
        signingKey: fromHex(signingKey),
        encryptionKey: fromHex(encryptionKey),
        fingerprint,
        firstSeen,
      };
    } catch {
      throw sispError('E_BAD_REQUEST', `the pinned keys file ${this.pinsPath} is damaged`);
    }
  }

  /** Pin writes in this process, one after another: two saved at once both stay. */
  #pinWrites: Promise<void> = Promise.resolve();

  savePin(username: string, pin: Pin): Promise<void> {
    const write = this.#pinWrites.then(() => this.#savePin(username, pin));
    this.#pinWrites = write.catch(() => undefined);
    return write;
  }

  async #savePin(username: string, pin: Pin): Promise<void> {
    const pins = await this.#readPins();
    pins[username] = {
      signingKey: toHex(pin.signingKey),
      encryptionKey: toHex(pin.encryptionKey),
      fingerprint: pin.fingerprint,
      firstSeen: pin.firstSeen,
    };
    await this.ensure();
    await writeAtomic(this.pinsPath, `${JSON.stringify(pins, null, 2)}\n`, 0o600);
  }

  readVerified(key: string): Promise<VerifiedRecord | undefined> {
    return this.#verified.read(key);
  }

  saveVerified(key: string, record: VerifiedRecord): Promise<void> {
    return this.#verified.save(key, record, async (path, text) => {
      await this.ensure();
      await writeAtomic(path, text, 0o600);
    });
  }
}
