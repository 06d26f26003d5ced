/**
 * One server per data directory: DATA/sisp.lock holds the running server's pid. A
 * second server started on the same directory refuses, naming the first; a lock
 * left by a server that died (kill -9) is taken over.
 */
import { open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { sispError } from '../protocol/errors.js';

export interface DataLock {
  release(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, but is someone else's.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function lockDataDir(dataDir: string): Promise<DataLock> {
  const path = join(dataDir, 'sisp.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx', 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return { release: () => unlink(path).catch(() => undefined) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
    if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && alive(pid))
      throw sispError(
        'E_UNAVAILABLE',
        `another sisp serve (pid ${pid}) is using ${dataDir}; stop it first, or use another --data`,
      );
    // Left by a server that is gone: take it over.
    await unlink(path).catch(() => undefined);
  }
  throw sispError('E_UNAVAILABLE', `cannot lock ${dataDir}`);
}
