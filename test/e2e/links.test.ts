/**
 * Links against real processes: made by the owner, opened by someone with no
 * account (a fresh home, no --server, no --ca), refused after expiry, after the
 * download count, after revoke, with a wrong fragment, with a wrong passphrase; and
 * the secret never reaches the server.
 */
import { strict as assert } from 'node:assert';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { httpsLinkFetcher } from '../../src/client/https-link-fetcher.js';
import { NODE_CRYPTO } from '../../src/client/platform.js';
import { openLink, type LinkFetcher } from '../../src/core/links.js';
import { memorySink } from '../../src/core/sink.js';
import { fromPem } from '../../src/crypto/certificates.js';
import { decodeStrict, encodeDeterministic } from '../../src/protocol/cbor.js';
import { isSispError } from '../../src/protocol/errors.js';
import { parseLinkUrl } from '../../src/protocol/link.js';
import {
  IMAGES,
  registered,
  runSisp,
  startServer,
  tempDir,
  type ClientHome,
  type RunResult,
  type ServerProcess,
} from './harness.js';

async function ok(home: ClientHome, args: string[]): Promise<string> {
  const result = await home.run(args);
  assert.equal(result.code, 0, `sisp ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

/** Someone with no account: a home of their own and nothing else. */
function stranger(args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  return runSisp(['--home', tempDir('stranger'), ...args], { env });
}

describe('links', () => {
  let server: ServerProcess;
  let alice: ClientHome;
  let bob: ClientHome;

  before(async () => {
    server = await startServer();
    [alice, bob] = await registered(server, 'alice', 'bob');
    await ok(alice, ['post', 'flower', join(IMAGES, 'flower.jpg'), '--to', 'alice']);
  });
  after(async () => {
    await server.stop();
  });

  it('opens for someone without an account, verified, byte for byte; the secret never reaches the server', async () => {
    const url = (await ok(alice, ['link', 'flower'])).trim();
    assert.match(url, /^https:\/\/[^/]+\/l\/[A-Za-z0-9_-]{22}#[A-Za-z0-9_-]{43}$/);
    const out = join(tempDir('link-out'), 'got.jpg');
    const got = await stranger(['download', url, '--out', out]);
    assert.equal(got.code, 0, got.stderr);
    assert.equal(got.stdout, `${out}\n`);
    assert.deepEqual(readFileSync(out), readFileSync(join(IMAGES, 'flower.jpg')));
    const secret = url.split('#')[1] ?? '';
    for (const file of readdirSync(join(server.dataDir, 'logs')))
      assert.ok(!readFileSync(join(server.dataDir, 'logs', file), 'utf8').includes(secret));
    assert.ok(!readFileSync(join(server.dataDir, 'sisp.db')).toString('latin1').includes(secret));
    const listed = JSON.parse(await ok(alice, ['link', 'list', '--json'])) as {
      links: { name: string; state: string; downloads: number }[];
    };
    assert.deepEqual(
      listed.links.map((link) => [link.name, link.state, link.downloads]),
      [['flower', 'open', 1]],
    );
  });

  it('a wrong fragment, a used-up count, a revoke and an expiry are each refused with their code', async () => {
    const url = (await ok(alice, ['link', 'flower', '--max-downloads', '1'])).trim();
    const [base, secret = ''] = url.split('#');
    const wrong = `${base ?? ''}#${secret.startsWith('A') ? 'B' : 'A'}${secret.slice(1)}`;
    const tampered = await stranger(['download', wrong, '--json']);
    assert.equal(tampered.code, 1);
    assert.equal(
      (JSON.parse(tampered.stderr) as { error: { code: string } }).error.code,
      'E_TAMPERED',
    );
    assert.equal((await stranger(['download', url])).code, 0, 'the wrong fragment used nothing up');
    const usedUp = await stranger(['download', url]);
    assert.equal(usedUp.code, 1);
    assert.match(usedUp.stderr, /downloaded as many times as its owner allowed/);

    const revoked = (await ok(alice, ['link', 'flower'])).trim();
    const list = JSON.parse(await ok(alice, ['link', 'list', '--json'])) as {
      links: { id: string; state: string }[];
    };
    const id = revoked.split('/l/')[1]?.split('#')[0] ?? '';
    assert.ok(list.links.some((link) => link.id === id && link.state === 'open'));
    assert.equal(await ok(alice, ['link', 'revoke', id]), 'revoked\n');
    // One id in 64 begins with '-' (base64url): still an id, never taken for an option.
    const dashed = await alice.run(['link', 'revoke', '-AAAAAAAAAAAAAAAAAAAAA']);
    assert.equal(dashed.code, 1);
    assert.doesNotMatch(dashed.stderr, /option/);
    assert.match(dashed.stderr, /link/);
    const afterRevoke = await stranger(['download', revoked]);
    assert.equal(afterRevoke.code, 1);
    assert.match(afterRevoke.stderr, /revoked by its owner/);
    const notYours = await bob.run(['link', 'revoke', id]);
    assert.equal(notYours.code, 1);

    const expiring = (await ok(alice, ['link', 'flower', '--expires', '30m'])).trim();
    const expiringId = expiring.split('/l/')[1]?.split('#')[0] ?? '';
    await server.stop();
    const db = new Database(join(server.dataDir, 'sisp.db'));
    try {
      // Time passes: the link's expiry is now in the past.
      db.prepare('UPDATE links SET expires = ? WHERE id = ?').run(
        Date.now() - 1000,
        Buffer.from(expiringId, 'base64url'),
      );
    } finally {
      db.close();
    }
    const port = new URL(server.url).port;
    server = await startServer({ dataDir: server.dataDir, port: Number(port) });
    const expired = await stranger(['download', expiring]);
    assert.equal(expired.code, 1);
    assert.match(expired.stderr, /expired/);
    const states = JSON.parse(await ok(alice, ['link', 'list', '--json'])) as {
      links: { state: string }[];
    };
    assert.deepEqual(states.links.map((link) => link.state).sort(), [
      'expired',
      'open',
      'revoked',
      'used up',
    ]);
  });

  it('a passphrase link needs the passphrase; a wrong one is refused and costs nothing', async () => {
    const refused = await alice.run(['link', 'flower', '--passphrase']);
    assert.equal(refused.code, 1, 'without a terminal or SISP_LINK_PASSPHRASE it is refused');
    assert.match(refused.stderr, /SISP_LINK_PASSPHRASE/);
    const made = await alice.run(['link', 'flower', '--passphrase', '--max-downloads', '1'], {
      env: { SISP_LINK_PASSPHRASE: 'correct horse' },
    });
    assert.equal(made.code, 0, made.stderr);
    const link = made.stdout.trim();
    const none = await stranger(['download', link]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /SISP_LINK_PASSPHRASE/);
    const wrong = await stranger(['download', link], { SISP_LINK_PASSPHRASE: 'battery staple' });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /wrong passphrase/);
    const right = await stranger(['download', link, '--json'], {
      SISP_LINK_PASSPHRASE: 'correct horse',
    });
    assert.equal(right.code, 0, right.stderr);
    assert.equal((JSON.parse(right.stdout) as { owner: string }).owner, 'alice');
  });

  it('a server that swaps the CA or the image behind a link is caught by the secret', async () => {
    await ok(alice, ['post', 'other', join(IMAGES, 'hopper.png'), '--to', 'alice']);
    const url = (await ok(alice, ['link', 'flower'])).trim();
    const otherUrl = (await ok(alice, ['link', 'other'])).trim();
    const { origin, id } = parseLinkUrl(otherUrl);
    const otherInfo = decodeStrict(await httpsLinkFetcher.info(origin, id)) as Record<
      string,
      unknown
    >;
    const tls = fromPem(readFileSync(join(server.dataDir, 'tls.pem'), 'utf8'));
    const swapping = (
      swap: (info: Record<string, unknown>) => Record<string, unknown>,
    ): LinkFetcher => ({
      info: async (at, linkId) =>
        encodeDeterministic(
          swap(decodeStrict(await httpsLinkFetcher.info(at, linkId)) as Record<string, unknown>),
        ),
      blob: (at, linkId, ca) => httpsLinkFetcher.blob(at, linkId, ca),
    });
    for (const swap of [
      (info: Record<string, unknown>) => ({ ...info, ca: tls }),
      (info: Record<string, unknown>) => ({
        ...info,
        manifest: otherInfo.manifest,
        signature: otherInfo.signature,
      }),
    ])
      await assert.rejects(openLink(swapping(swap), url, memorySink()), (error: unknown) => {
        assert.ok(isSispError(error, 'E_TAMPERED'), String(error));
        return true;
      });
    const opened = await openLink(httpsLinkFetcher, url, memorySink(), { crypto: NODE_CRYPTO });
    assert.deepEqual(opened.result, new Uint8Array(readFileSync(join(IMAGES, 'flower.jpg'))));
  });

  it('deleting the image ends its links; only the owner can make one', async () => {
    await ok(alice, ['post', 'brief', join(IMAGES, 'hopper.png')]);
    const url = (await ok(alice, ['link', 'brief'])).trim();
    const refused = await bob.run(['link', 'alice/brief']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /only alice can make a link to/);
    await ok(alice, ['delete', 'brief']);
    const gone = await stranger(['download', url]);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /E_NOT_FOUND|not found/i);
    const bad = await stranger(['download', 'https://127.0.0.1:1/l/short#x']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /not a link/);
  });
});
