/**
 * Watchers for the reconnect storm (bench/watchers.bench.ts), in a process of their
 * own: real watchers are other processes on other machines, and a thousand of them
 * sharing the benchmark's one event loop (and its heap, grown by the 10,000 sign-ins
 * before) made that loop, not the server, what the storm measured.
 *
 * argv: SERVER_URL CA_PATH USERS_DIR FIRST COUNT. Tells its parent 'connected' once
 * every watcher is signed in; told a name ({ target }), says 'done' once every
 * watcher has seen an event for it, whether pushed or caught up after reconnecting.
 */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Home } from '../src/client/home.js';
import { login, type CliContext } from '../src/cli/context.js';
import type { SispClient } from '../src/core/client.js';
import { eventsAfter } from '../src/core/events.js';
import { ReconnectSchedule } from '../src/core/reconnect.js';

/** A watcher as `sisp watch` runs one: reconnects on its schedule, catches up from its last event. */
class Watcher {
  last: number | undefined;
  client: SispClient | undefined;
  readonly seen = new Set<string>();
  readonly #context: CliContext;
  readonly #onFirstSight: (name: string) => void;

  constructor(ctx: CliContext, onFirstSight: (name: string) => void) {
    this.#context = ctx;
    this.#onFirstSight = onFirstSight;
  }

  #see(name: string): void {
    if (this.seen.has(name)) return;
    this.seen.add(name);
    this.#onFirstSight(name);
  }

  /** Runs until the process ends (the parent's { stop }). */
  async run(): Promise<void> {
    const schedule = new ReconnectSchedule();
    for (;;) {
      try {
        const client = await login(this.#context);
        this.client = client;
        const closed = new Promise<void>((done) =>
          client.connection.onClose(() => {
            done();
          }),
        );
        client.connection.onEvent = (event) => {
          this.last = Math.max(this.last ?? 0, event.body.position);
          this.#see(event.body.name);
        };
        // First time: from now on, as `sisp watch` starts.
        this.last ??= (await eventsAfter(client)).position;
        for (let more = true; more;) {
          const page = await eventsAfter(client, this.last);
          for (const event of page.events) this.#see(event.name);
          this.last = Math.max(this.last, page.position);
          more = page.more;
        }
        schedule.reset();
        await closed;
      } catch {
        await sleep(schedule.next());
      }
    }
  }
}

const [url, caPath, usersDir, first, count] = process.argv.slice(2);
if (url === undefined || caPath === undefined || usersDir === undefined)
  throw new Error('usage: storm-watchers SERVER_URL CA_PATH USERS_DIR FIRST COUNT');
let target: string | undefined;
/** Watchers that have seen the target. */
let caughtUp = 0;
const watchers: Watcher[] = [];
const counted = (): void => {
  if (caughtUp === watchers.length) process.send?.('done');
};
const sighted = (name: string): void => {
  if (name !== target) return;
  caughtUp++;
  counted();
};
for (let i = Number(first); i < Number(first) + Number(count); i++) {
  const home = new Home(join(usersDir, `watcher${i}`));
  watchers.push(new Watcher({ home, server: url, caFile: caPath }, sighted));
}
for (const watcher of watchers) void watcher.run();
process.on('message', (message: { target?: string; stop?: boolean }) => {
  if (message.target !== undefined) {
    const name = message.target;
    target = name;
    caughtUp = watchers.filter((watcher) => watcher.seen.has(name)).length;
    counted();
  }
  // Sockets and watchers mid-sign-in go with the process.
  if (message.stop === true) process.exit(0);
});
while (watchers.some((watcher) => watcher.client === undefined)) await sleep(100);
process.send?.('connected');
