/**
 * The browser app in real headless Chromium against a real `sisp serve`, with CLI
 * users beside it: a person registers in the page (keys made there, kept in
 * IndexedDB), sees a CLI user's image appear live, opens it verified, posts one the
 * CLI downloads byte for byte, comes back signed in after a reload, and opens a link
 * without an account. The page is served under the strict CSP with Subresource
 * Integrity, and makes no request to any other origin. Chromium is told to trust
 * only the server's own TLS key, never a blanket ignore.
 */
import { strict as assert } from 'node:assert';
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import {
  IMAGES,
  registered,
  startServer,
  tempDir,
  type ClientHome,
  type ServerProcess,
} from '../e2e/harness.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

function spkiHash(certificatePem: string): string {
  const spki = new X509Certificate(certificatePem).publicKey.export({
    type: 'spki',
    format: 'der',
  });
  return createHash('sha256').update(spki).digest('base64');
}

async function ok(home: ClientHome, args: string[]): Promise<string> {
  const result = await home.run(args);
  assert.equal(result.code, 0, `sisp ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

describe('the browser app in Chromium', () => {
  let server: ServerProcess;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let web: string;
  let alice: ClientHome;
  let bob: ClientHome;
  const problems: string[] = [];

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}: apt-get install -y chromium`);
    server = await startServer();
    web = server.url.replace(/^wss:/, 'https:').replace(/\/$/, '');
    [alice, bob] = await registered(server, 'alice', 'bob');
    const tls = readFileSync(join(server.dataDir, 'tls.pem'), 'utf8');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
        // No --user-data-dir: Playwright gives every launch a fresh temporary profile.
        `--ignore-certificate-errors-spki-list=${spkiHash(tls)}`,
      ],
    });
    context = await browser.newContext();
    page = await context.newPage();
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    page.on('request', (request) => {
      if (!request.url().startsWith(web) && !request.url().startsWith('blob:'))
        problems.push(`request to another origin: ${request.url()}`);
    });
  });
  after(async () => {
    await browser.close();
    await server.stop();
  });

  it('is served under a strict CSP, every script with Subresource Integrity', async () => {
    const response = await page.goto(`${web}/`);
    assert.ok(response !== null);
    const csp = response.headers()['content-security-policy'] ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    const html = await response.text();
    const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((match) => match[0]);
    assert.ok(scripts.length > 0);
    for (const tag of scripts) assert.match(tag, /integrity="sha384-[A-Za-z0-9+/=]+"/);
    const digest = createHash('sha256').update(html).digest('hex');
    assert.match(server.output(), new RegExp(`browser app: .* digest ${digest}`));
  });

  it('registers in the page and sees a CLI user’s new image live, verified', async () => {
    await page.getByLabel('Username').fill('carol');
    await page.getByRole('button', { name: 'Register' }).click();
    await page.getByText('Signed in as carol').waitFor();
    await ok(alice, ['post', 'flower', join(IMAGES, 'flower.jpg')]);
    const card = page.locator('li[data-image="alice/flower"]');
    await card.waitFor({ timeout: 15_000 });
    await card.getByText('✓ verified').waitFor();
    await card.getByRole('button', { name: 'Open alice/flower' }).click();
    await page
      .getByRole('status')
      .getByText(/Verified: alice's certificate/)
      .waitFor();
    const shown = await page.locator('.viewer img').getAttribute('src');
    assert.match(shown ?? '', /^blob:/);
  });

  it('posts from the page; a CLI user downloads it byte for byte', async () => {
    await page.getByLabel('Images (or drop them here)').setInputFiles(join(IMAGES, 'hopper.png'));
    await page.getByLabel('To (comma-separated; empty for everyone)').fill('bob');
    await page.getByRole('button', { name: 'Post', exact: true }).click();
    await page.locator('li[data-image="carol/hopper"]').waitFor({ timeout: 20_000 });
    const out = join(tempDir('from-browser'), 'hopper.png');
    await ok(bob, ['download', 'carol/hopper', '--out', out]);
    assert.deepEqual(readFileSync(out), readFileSync(join(IMAGES, 'hopper.png')));
    const denied = await alice.run(['download', 'carol/hopper']);
    assert.equal(denied.code, 1, 'posted to bob only');
  });

  it('comes back signed in after a reload (keys in IndexedDB, not extractable)', async () => {
    await page.reload();
    await page.getByText('Signed in as carol').waitFor();
    const extractable = await page.evaluate(async () => {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const open = indexedDB.open('sisp');
        open.onsuccess = () => {
          resolve(open.result);
        };
        open.onerror = () => {
          reject(open.error ?? new Error('open failed'));
        };
      });
      const stored = await new Promise<{
        identity: { signing: CryptoKeyPair; encryption: CryptoKeyPair };
      }>((resolve, reject) => {
        const get = db.transaction('sisp').objectStore('sisp').get('identity');
        get.onsuccess = () => {
          resolve(
            get.result as { identity: { signing: CryptoKeyPair; encryption: CryptoKeyPair } },
          );
        };
        get.onerror = () => {
          reject(get.error ?? new Error('get failed'));
        };
      });
      return [
        stored.identity.signing.privateKey.extractable,
        stored.identity.encryption.privateKey.extractable,
      ];
    });
    assert.deepEqual(extractable, [false, false]);
  });

  it('opens a link without an account', async () => {
    const url = (await ok(alice, ['link', 'flower'])).trim();
    const stranger = await browser.newContext();
    try {
      const linkPage = await stranger.newPage();
      await linkPage.goto(url);
      await linkPage.getByText(/Verified: signed by alice/).waitFor({ timeout: 15_000 });
      assert.match((await linkPage.locator('figure img').getAttribute('src')) ?? '', /^blob:/);
    } finally {
      await stranger.close();
    }
  });

  it('no page errors, console errors or requests to other origins', () => {
    assert.deepEqual(problems, []);
  });
});
