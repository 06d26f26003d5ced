/**
 * The browser app's trust and TLS, against the real executable: `sisp web verify`
 * says whether a server hands out this release's app (digest and CSP), and
 * `sisp serve --tls-cert/--tls-key` puts an operator's certificate (here from a
 * throwaway root made with openssl, as mkcert would) on the listener while the
 * server's identity stays the sisp CA's.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { after, describe, it } from 'node:test';
import { APP_CSP } from '../../src/server/web-app.js';
import {
  IMAGES,
  clientHome,
  runSisp,
  startServer,
  tempDir,
  type ServerProcess,
} from './harness.js';

interface Operator {
  readonly root: string;
  readonly cert: string;
  readonly key: string;
}

/** A root and a leaf for 127.0.0.1 and localhost, as an operator's ACME client or mkcert gives. */
function operatorCertificate(dir = tempDir('operator')): Operator {
  const at = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { stdio: 'ignore' });
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  if (!readFileSafe(at('root.pem')))
    openssl(
      'req',
      '-x509',
      ...ec,
      '-keyout',
      at('root.key'),
      '-out',
      at('root.pem'),
      '-days',
      '2',
      '-subj',
      '/CN=sisp test operator root',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign',
    );
  writeFileSync(
    at('leaf.ext'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n',
  );
  openssl(
    'req',
    ...ec,
    '-keyout',
    at('leaf.key'),
    '-out',
    at('leaf.csr'),
    '-subj',
    '/CN=127.0.0.1',
  );
  openssl(
    'x509',
    '-req',
    '-in',
    at('leaf.csr'),
    '-CA',
    at('root.pem'),
    '-CAkey',
    at('root.key'),
    '-CAcreateserial',
    '-out',
    at('leaf.pem'),
    '-days',
    '2',
    '-extfile',
    at('leaf.ext'),
  );
  return { root: at('root.pem'), cert: at('leaf.pem'), key: at('leaf.key') };
}

function readFileSafe(path: string): boolean {
  try {
    readFileSync(path);
    return true;
  } catch {
    return false;
  }
}

/** The certificate a TLS listener presents, by fingerprint. */
function presented(url: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(
      { host: hostname, port: Number(port), rejectUnauthorized: false },
      () => {
        resolve(socket.getPeerX509Certificate()?.fingerprint256 ?? '');
        socket.end();
      },
    );
    socket.on('error', reject);
  });
}

const fingerprintOf = (pem: string): string =>
  new X509Certificate(readFileSync(pem)).fingerprint256;

describe('the browser app: verify, and an operator’s TLS certificate', () => {
  const servers: ServerProcess[] = [];
  after(async () => {
    await Promise.all(servers.map((server) => server.stop()));
  });

  it('sisp web verify: this release’s app passes, another page or a weak policy fails', async () => {
    const server = await startServer();
    servers.push(server);
    const web = server.url.replace(/^wss:/, 'https:');
    const good = await runSisp(['--ca', server.caPath, 'web', 'verify', web, '--json']);
    assert.equal(good.code, 0, good.stderr);
    const report = JSON.parse(good.stdout) as { matches: boolean; served: string };
    assert.equal(report.matches, true);
    assert.match(server.output(), new RegExp(`digest ${report.served}`));

    // A look-alike server (trusted through NODE_EXTRA_CA_CERTS): another page, then the
    // right page without the policy.
    const operator = operatorCertificate();
    const appHtml = readFileSync(
      join(import.meta.dirname, '..', '..', 'dist', 'web', 'index.html'),
    );
    let body = Buffer.concat([appHtml, Buffer.from('<!-- -->')]);
    let headers: Record<string, string> = { 'content-security-policy': APP_CSP };
    const fake = createServer(
      { cert: readFileSync(operator.cert), key: readFileSync(operator.key) },
      (_request, response) => {
        response.writeHead(200, { 'content-type': 'text/html', ...headers }).end(body);
      },
    );
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    try {
      const fakeUrl = `https://127.0.0.1:${(fake.address() as AddressInfo).port}/`;
      const env = { NODE_EXTRA_CA_CERTS: operator.root };
      const swapped = await runSisp(['web', 'verify', fakeUrl], { env });
      assert.equal(swapped.code, 1);
      assert.match(swapped.stderr, /NOT this release/);
      body = appHtml;
      headers = {};
      const weak = await runSisp(['web', 'verify', fakeUrl, '--json'], { env });
      assert.equal(weak.code, 1);
      assert.match(weak.stderr, /E_TAMPERED/);
      assert.match(weak.stdout, /no Content-Security-Policy/);
      const untrusted = await runSisp(['web', 'verify', fakeUrl]);
      assert.equal(untrusted.code, 1);
      assert.match(untrusted.stderr, /not trusted/);
    } finally {
      fake.close();
    }
  });

  it('--tls-cert/--tls-key: browsers get the operator’s certificate, clients still pin the sisp CA', async () => {
    const operator = operatorCertificate();
    const server = await startServer({
      env: { SISP_TLS_CERT: operator.cert, SISP_TLS_KEY: operator.key },
    });
    servers.push(server);
    const first = fingerprintOf(operator.cert);
    assert.equal(await presented(server.url), first);
    const env = { NODE_EXTRA_CA_CERTS: operator.root };
    const alice = clientHome(server);
    const bob = clientHome(server);
    const registered = await alice.run(['register', 'alice'], { env });
    assert.equal(registered.code, 0, registered.stderr);
    assert.equal((await bob.run(['register', 'bob'], { env })).code, 0);
    assert.equal(
      (await alice.run(['post', 'flower', join(IMAGES, 'flower.jpg')], { env })).code,
      0,
    );
    const out = join(tempDir('out'), 'flower.jpg');
    const fetched = await bob.run(['download', 'alice/flower', '--out', out], { env });
    assert.equal(fetched.code, 0, fetched.stderr);
    // The welcome still names the sisp CA: a client pinned to another CA is refused.
    const other = await startServer();
    servers.push(other);
    const wrongCa = await runSisp(
      [
        '--home',
        tempDir('home'),
        '--server',
        server.url,
        '--ca',
        other.caPath,
        'register',
        'carol',
      ],
      { env },
    );
    assert.equal(wrongCa.code, 1);
    assert.match(wrongCa.stderr, /different CA|certificate/);
    // A certificate the system does not trust is refused.
    const untrusted = await clientHome(server).run(['register', 'dave']);
    assert.equal(untrusted.code, 1);
    assert.match(untrusted.stderr, /certif/);

    // A renewed certificate (new files at the same paths) is picked up on SIGHUP.
    const renewed = operatorCertificate(join(operator.root, '..'));
    const want = fingerprintOf(renewed.cert);
    assert.notEqual(want, first);
    server.process.kill('SIGHUP');
    for (let tries = 0; tries < 50 && (await presented(server.url)) !== want; tries += 1)
      await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(await presented(server.url), want);
    assert.equal((await alice.run(['list'], { env })).code, 0);
  });

  it('refuses --tls-cert without --tls-key, and a key that is not the certificate’s', async () => {
    const operator = operatorCertificate();
    const half = await runSisp([
      'serve',
      '--data',
      tempDir('data'),
      '--port',
      '0',
      '--tls-cert',
      operator.cert,
    ]);
    assert.equal(half.code, 2);
    assert.match(half.stderr, /go together/);
    const stranger = operatorCertificate();
    const mismatched = await runSisp([
      'serve',
      '--data',
      tempDir('data'),
      '--port',
      '0',
      '--quiet',
      '--tls-cert',
      operator.cert,
      '--tls-key',
      stranger.key,
    ]);
    assert.equal(mismatched.code, 1);
    assert.match(mismatched.stderr, /do not make a pair/);
  });
});
