/**
 * Stateful fuzzing: fast-check drives sequences of posts (public, to another user,
 * to oneself; new or replacing), downloads and listings by two users against a real
 * server process, and checks every answer against a model of who may see what.
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { Home } from '../../src/client/home.js';
import { login } from '../../src/cli/context.js';
import { listImages } from '../../src/core/catalogue.js';
import type { SispClient } from '../../src/core/client.js';
import { downloadImage } from '../../src/core/download.js';
import { postImage } from '../../src/core/post.js';
import { memorySink } from '../../src/core/sink.js';
import { bytesSource } from '../../src/core/source.js';
import { isSispError } from '../../src/protocol/errors.js';
import { pngBytes } from '../inprocess/images.js';
import { arena, type Arena } from './harness.js';
import { ATTACK_SECONDS } from './budget.js';

type User = 'victim' | 'attacker';
type Audience = 'public' | 'other' | 'self';

interface Model {
  /** owner/name → who may see it, and its content's fill byte. */
  images: Map<string, { audience: Audience; fill: number }>;
}

interface Real {
  clients: Record<User, SispClient>;
}

const other = (user: User): User => (user === 'victim' ? 'attacker' : 'victim');
const canSee = (viewer: User, owner: User, audience: Audience): boolean =>
  viewer === owner || audience === 'public' || (audience === 'other' && viewer === other(owner));

class Post implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly user: User,
    readonly name: string,
    readonly audience: Audience,
    readonly replace: boolean,
    readonly fill: number,
  ) {}
  check(): boolean {
    return true;
  }
  async run(model: Model, real: Real): Promise<void> {
    const key = `${this.user}/${this.name}`;
    const to =
      this.audience === 'public'
        ? undefined
        : [this.audience === 'self' ? this.user : other(this.user)];
    const exists = model.images.has(key);
    const posting = postImage(real.clients[this.user], {
      name: this.name,
      source: bytesSource(pngBytes(2000, this.fill)),
      replace: this.replace,
      ...(to === undefined ? {} : { to }),
    });
    if (exists && !this.replace) {
      await assert.rejects(posting, (e: unknown) => isSispError(e, 'E_EXISTS'));
      return;
    }
    await posting;
    model.images.set(key, { audience: this.audience, fill: this.fill });
  }
  toString(): string {
    return `post(${this.user}, ${this.name}, ${this.audience}${this.replace ? ', replace' : ''})`;
  }
}

class Download implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly viewer: User,
    readonly owner: User,
    readonly name: string,
  ) {}
  check(): boolean {
    return true;
  }
  async run(model: Model, real: Real): Promise<void> {
    const image = model.images.get(`${this.owner}/${this.name}`);
    const getting = downloadImage(
      real.clients[this.viewer],
      { owner: this.owner, name: this.name },
      memorySink(),
    );
    if (image === undefined || !canSee(this.viewer, this.owner, image.audience)) {
      await assert.rejects(getting, (e: unknown) => isSispError(e, 'E_NOT_FOUND'));
      return;
    }
    assert.deepEqual((await getting).result, pngBytes(2000, image.fill));
  }
  toString(): string {
    return `download(${this.viewer} gets ${this.owner}/${this.name})`;
  }
}

class List implements fc.AsyncCommand<Model, Real> {
  constructor(readonly viewer: User) {}
  check(): boolean {
    return true;
  }
  async run(model: Model, real: Real): Promise<void> {
    const expected = [...model.images]
      .filter(([key, image]) => canSee(this.viewer, key.split('/')[0] as User, image.audience))
      .map(([key]) => key)
      .sort();
    const listed = (await listImages(real.clients[this.viewer]))
      .map((i) => `${i.owner}/${i.name}`)
      .sort();
    assert.deepEqual(listed, expected);
  }
  toString(): string {
    return `list(${this.viewer})`;
  }
}

describe('stateful fuzzing against a real server', () => {
  let world: Arena;
  let clients: Record<User, SispClient>;
  before(async () => {
    // The model is about who sees what, not about pacing: no request limit in the way.
    world = await arena({ SISP_RATE: '100000', SISP_RATE_BURST: '100000' });
    const connect = (dir: string) =>
      login({ home: new Home(dir), server: world.server.url, caFile: world.server.caPath });
    clients = {
      victim: await connect(world.victim.dir),
      attacker: await connect(world.attacker.dir),
    };
  });
  after(async () => {
    clients.victim.close();
    clients.attacker.close();
    await world.stop();
  });

  it('every answer agrees with a model of who may see what', async (t) => {
    const user = fc.constantFrom<User>('victim', 'attacker');
    const name = fc.constantFrom('a', 'b', 'c');
    const commands = [
      fc
        .tuple(
          user,
          name,
          fc.constantFrom<Audience>('public', 'other', 'self'),
          fc.boolean(),
          fc.integer({ min: 1, max: 250 }),
        )
        .map(([u, n, a, r, f]) => new Post(u, n, a, r, f)),
      fc.tuple(user, user, name).map(([v, o, n]) => new Download(v, o, n)),
      user.map((v) => new List(v)),
    ];
    let runs = 0;
    // One model for every run, as the server keeps every run's images: each sequence
    // goes on from where the last one left the server (no shrinking: the first
    // disagreement ends the run).
    const model: Model = { images: new Map() };
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 25 }), async (cmds) => {
        runs++;
        await fc.asyncModelRun(() => ({ model, real: { clients } }), cmds);
      }),
      { numRuns: ATTACK_SECONDS > 0 ? 60 : 8, endOnFailure: true },
    );
    t.diagnostic(`${runs} sequences of up to 25 commands agreed with the model`);
  });
});
