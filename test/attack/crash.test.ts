/**
 * kill -9 while users post at once, again and again: after every restart each post
 * that was acknowledged (the CLI exited 0) is listed and downloads intact, and no
 * temporary file is left.
 */
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { IMAGES } from '../support/paths.js';
import { registered, startServer, tempDir } from '../e2e/harness.js';
import { rounds, until } from './budget.js';

describe('kill -9 during concurrent uploads', () => {
  it('loses nothing acknowledged and leaves no temporary file', async (t) => {
    const dataDir = tempDir('crash');
    let server = await startServer({ dataDir });
    const port = Number(new URL(server.url).port);
    const users = await registered(server, 'ann', 'ben', 'cat');
    const image = join(IMAGES, 'flower2.jpg');
    const acknowledged: string[] = [];
    const started = Date.now();
    let round = 0;
    try {
      for (; round < rounds(3) && until(started); round++) {
        // Each user posts one image after another until the server dies under them.
        let alive = true;
        const posts = users.map(async (user, u) => {
          for (let n = 0; alive; n++) {
            const name = `r${round}-u${u}-${n}`;
            const result = await user.run(['post', name, image], { timeoutMs: 30_000 });
            if (result.code === 0) acknowledged.push(`${['ann', 'ben', 'cat'][u] ?? ''}/${name}`);
          }
        });
        // Killed at a different point each round, posts in flight.
        await new Promise((resolve) => setTimeout(resolve, 1200 + ((round * 397) % 1500)));
        alive = false;
        await server.stop('SIGKILL');
        await Promise.all(posts);
        server = await startServer({ dataDir, port });
        assert.deepEqual(readdirSync(join(dataDir, 'tmp')), [], 'no temporary left');
      }
      const listed = (await users[0].run(['list'])).stdout;
      for (const name of acknowledged) assert.match(listed, new RegExp(name), `${name} survived`);
      const last = acknowledged[acknowledged.length - 1];
      if (last !== undefined) {
        const got = await users[0].run(['download', last]);
        assert.equal(got.code, 0, got.stderr);
        assert.deepEqual(readFileSync(got.stdout.trim()), readFileSync(image));
      }
    } finally {
      await server.stop();
    }
    t.diagnostic(`${round} kill -9 rounds, ${acknowledged.length} acknowledged posts, all kept`);
    assert.ok(round > 0);
    assert.ok(acknowledged.length > 0, 'posts were acknowledged between the kills');
  });
});
