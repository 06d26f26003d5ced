/**
 * Group commit for directory entries: renames into a directory while its fsync runs
 * share the one fsync that starts next, instead of one fsync each. Every caller gets
 * an fsync that began after it called, which is what makes its rename durable.
 */
import { open } from 'node:fs/promises';

export async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

interface DirectoryState {
  running: Promise<void> | undefined;
  waiting: Promise<void> | undefined;
}

export class DirectorySync {
  readonly #dirs = new Map<string, DirectoryState>();
  readonly #fsync: (dir: string) => Promise<void>;

  constructor(fsync: (dir: string) => Promise<void> = fsyncDirectory) {
    this.#fsync = fsync;
  }

  sync(dir: string): Promise<void> {
    let state = this.#dirs.get(dir);
    if (state === undefined) {
      state = { running: undefined, waiting: undefined };
      this.#dirs.set(dir, state);
    }
    if (state.running === undefined) return this.#start(dir, state);
    // The running fsync may have begun before our rename: wait for the next one.
    const start = (): Promise<void> => this.#start(dir, state);
    state.waiting ??= state.running.then(start, start);
    return state.waiting;
  }

  #start(dir: string, state: DirectoryState): Promise<void> {
    state.waiting = undefined;
    const run = this.#fsync(dir).finally(() => {
      if (state.running === run) state.running = undefined;
      if (state.running === undefined && state.waiting === undefined) this.#dirs.delete(dir);
    });
    state.running = run;
    return run;
  }
}
