/**
 * The client's home directory: which server, its CA, this user's keys (0600), the
 * keys pinned for other users, and downloads. Writes go to a temporary file first,
 * then a rename, so a crash never leaves a half-written file.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { sispError } from '../protocol/errors.js';

export interface HomeConfig {
  readonly server: string;
  readonly username?: string;
}

export interface Pin {
  readonly signingKey: string;
  readonly encryptionKey: string;
  readonly fingerprint: string;
  readonly firstSeen: string;
}

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
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temporary, data, { mode, flag: 'wx' });
  await chmod(temporary, mode);
  await rename(temporary, path);
}

export class Home {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
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

  async readConfig(): Promise<HomeConfig | undefined> {
    if (!existsSync(this.configPath)) return undefined;
    try {
      const parsed = JSON.parse(await readFile(this.configPath, 'utf8')) as Partial<HomeConfig>;
      if (typeof parsed.server !== 'string') throw new Error('no server');
      return parsed.username === undefined
        ? { server: parsed.server }
        : { server: parsed.server, username: parsed.username };
    } catch {
      throw sispError('E_BAD_REQUEST', `the client configuration ${this.configPath} is damaged`);
    }
  }

  async writeConfig(config: HomeConfig): Promise<void> {
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

  hasKeys(): boolean {
    return existsSync(this.keyPath);
  }

  async readKeys(): Promise<Uint8Array> {
    return new Uint8Array(await readFile(this.keyPath));
  }

  async writeKeys(file: Uint8Array): Promise<void> {
    await this.ensure();
    if (existsSync(this.keyPath))
      throw sispError('E_EXISTS', `keys already exist in ${this.dir}; use another --home`);
    await writeAtomic(this.keyPath, file, 0o600);
  }

  async readPins(): Promise<Record<string, Pin>> {
    if (!existsSync(this.pinsPath)) return {};
    try {
      return JSON.parse(await readFile(this.pinsPath, 'utf8')) as Record<string, Pin>;
    } catch {
      throw sispError('E_BAD_REQUEST', `the pinned keys file ${this.pinsPath} is damaged`);
    }
  }

  async writePins(pins: Record<string, Pin>): Promise<void> {
    await this.ensure();
    await writeAtomic(this.pinsPath, `${JSON.stringify(pins, null, 2)}\n`, 0o600);
  }
}
