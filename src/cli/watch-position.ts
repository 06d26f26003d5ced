/**
 * Where `sisp watch` stopped: the last event position it printed, per server and
 * user, in HOME/watch.json (written atomically), so the next run resumes there.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SispClient } from '../core/client.js';
import { writeAtomic, type Home } from '../client/home.js';

interface Saved {
  readonly server: string;
  readonly username: string;
  readonly position: number;
}

export class WatchPositions {
  readonly #path: string;

  constructor(home: Home) {
    this.#path = join(home.dir, 'watch.json');
  }

  /** The saved position for this server and user, if any (a damaged file counts as none). */
  async read(client: SispClient): Promise<number | undefined> {
    try {
      const saved = JSON.parse(await readFile(this.#path, 'utf8')) as Partial<Saved>;
      const matches = saved.server === client.endpoint.url && saved.username === client.username;
      return matches && Number.isSafeInteger(saved.position) && (saved.position ?? -1) >= 0
        ? saved.position
        : undefined;
    } catch {
      return undefined;
    }
  }

  async write(client: SispClient, position: number): Promise<void> {
    const saved: Saved = { server: client.endpoint.url, username: client.username, position };
    await writeAtomic(this.#path, `${JSON.stringify(saved)}\n`, 0o600);
  }
}
