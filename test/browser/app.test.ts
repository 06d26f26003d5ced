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
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { CHROMIUM, launchChromium } from '../support/chromium.js';
import {
  IMAGES,
  registered,
  runSisp,
  startServer,
  tempDir,
  clientHome,
  type ClientHome,
  type ServerProcess,
} from '../e2e/harness.js';

const AXE_SOURCE = readFileSync(
  createRequire(import.meta.url).resolve('axe-core/axe.min.js'),
  'utf8',
);

interface AxeViolation {
  readonly id: string;
  readonly impact: string | null;
  readonly nodes: readonly { readonly target: readonly string[] }[];
}

/**
 * axe-core's serious and critical findings on what the page shows now. axe goes in
 * through DevTools (page.evaluate), which the page's CSP does not govern: the page
 * itself still runs nothing but its own scripts.
 */
async function accessibilityProblems(target: Page): Promise<string[]> {
  await target.evaluate(AXE_SOURCE);
  const violations = await target.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: { run(context: Document): Promise<{ violations: AxeViolation[] }> };
      }
    ).axe;
    return (await axe.run(document)).violations;
  });
  return violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map(
      (violation) =>
        `${violation.id}: ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`,
    );
}

/** Screenshots kept for people to look at (gitignored; CI keeps them as artefacts). */
const ARTEFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts', 'browser');

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

async function ok(home: ClientHome, args: string[]): Promise<string> {
  const result = await home.run(args);
  assert.equal(result.code, 0, `sisp ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

describe('the browser app in Chromium', () => {
  let server: ServerProcess;
  let browser: Browser;

  let page: Page;
  let web: string;
  let alice: ClientHome;
  let bob: ClientHome;
  const problems: string[] = [];

  /** A fresh browser context (its own IndexedDB) whose every problem is recorded. */
  async function newPage(): Promise<{ context: BrowserContext; page: Page }> {
    const fresh = await browser.newContext({ acceptDownloads: true });
    const opened = await fresh.newPage();
    opened.on('pageerror', (failure) => problems.push(`page error: ${failure.message}`));
    opened.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    opened.on('request', (request) => {
      if (!request.url().startsWith(web) && !request.url().startsWith('blob:'))
        problems.push(`request to another origin: ${request.url()}`);
    });
    return { context: fresh, page: opened };
  }

  async function registerIn(target: Page, username: string): Promise<void> {
    await target.goto(`${web}/`);
    await target.getByLabel('Username').fill(username);
    await target.getByRole('button', { name: 'Register' }).click();
    await target.getByText(`Signed in as ${username}`).waitFor();
  }

  /** Clicks Download on a card and returns the saved bytes. */
  async function downloadIn(target: Page, title: string): Promise<Buffer> {
    const saving = target.waitForEvent('download');
    await target.getByRole('button', { name: `Download ${title}`, exact: true }).click();
    const download = await saving;
    const path = await download.path();
    return readFileSync(path);
  }

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}: apt-get install -y chromium`);
    server = await startServer();
    web = server.url.replace(/^wss:/, 'https:').replace(/\/$/, '');
    [alice, bob] = await registered(server, 'alice', 'bob');
    const tls = readFileSync(join(server.dataDir, 'tls.pem'), 'utf8');
    browser = await launchChromium(tls);
    ({ page } = await newPage());
    mkdirSync(ARTEFACTS, { recursive: true });
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

  it('shares, takes back, fills and shares an album, makes a link and deletes, from the page', async () => {
    const status = page.getByRole('status');
    const card = page.locator('li[data-image="carol/hopper"]');
    const original = readFileSync(join(IMAGES, 'hopper.png'));
    const fetchAs = async (home: ClientHome, image: string): Promise<number | null> =>
      (await home.run(['download', image, '--out', join(tempDir('out'), 'image.png')])).code;
    await card.getByText('Manage hopper').click();
    await card.getByLabel('Share hopper with (comma-separated)').fill('alice');
    await card.getByRole('button', { name: 'Share carol/hopper', exact: true }).click();
    await status.getByText('Shared hopper with alice.').waitFor({ timeout: 15_000 });
    assert.equal(await fetchAs(alice, 'carol/hopper'), 0);
    await card.getByLabel('Take hopper back from (comma-separated)').fill('alice');
    await card.getByRole('button', { name: 'Unshare carol/hopper', exact: true }).click();
    await status.getByText(/Taken back from alice/).waitFor({ timeout: 15_000 });
    assert.equal(await fetchAs(alice, 'carol/hopper'), 1);

    await page.getByLabel('New album name').fill('trip');
    await page.getByRole('button', { name: 'Create album', exact: true }).click();
    const album = page.locator('li[data-album="carol/trip"]');
    await album.waitFor({ timeout: 15_000 });
    await album.getByText('Manage album trip').click();
    await album.getByLabel('Add your images to trip (names, comma-separated)').fill('hopper');
    await album.getByRole('button', { name: 'Add to trip', exact: true }).click();
    await status.getByText('Added 1 to trip.').waitFor({ timeout: 15_000 });
    await album.getByLabel('Share trip with (comma-separated)').fill('alice');
    await album.getByRole('button', { name: 'Share album trip', exact: true }).click();
    await status.getByText('Shared trip with alice.').waitFor({ timeout: 15_000 });
    assert.equal(await fetchAs(alice, 'carol/hopper'), 0, 'through the album');
    await album.getByRole('button', { name: 'Show album carol/trip', exact: true }).click();
    await page.getByRole('heading', { name: /Album carol\/trip \(1\)/ }).waitFor();
    await page.getByRole('button', { name: 'Show all images', exact: true }).click();

    await card.getByRole('button', { name: 'Make a link to carol/hopper', exact: true }).click();
    const url = await card.getByLabel(/^Link/).inputValue();
    assert.match(url, /^https:\/\/.*\/l\/[A-Za-z0-9_-]+#/);
    const viaLink = join(tempDir('link'), 'hopper.png');
    const opened = await runSisp([
      '--home',
      tempDir('stranger'),
      'download',
      url,
      '--out',
      viaLink,
    ]);
    assert.equal(opened.code, 0, opened.stderr);
    assert.deepEqual(readFileSync(viaLink), original);

    await card.getByRole('button', { name: 'Delete carol/hopper', exact: true }).click();
    await page.getByRole('button', { name: 'Yes, delete carol/hopper', exact: true }).click();
    await card.waitFor({ state: 'detached', timeout: 15_000 });
    assert.equal(await fetchAs(bob, 'carol/hopper'), 1, 'deleted for everyone');
  });

  it('takes files dropped on the form; what is not an image is refused in words', async () => {
    const files = [
      { name: 'dropped.webp', type: 'image/webp', path: join(IMAGES, 'hopper.webp') },
      { name: 'bomb.gif', type: 'image/gif', path: join(IMAGES, 'decompression_bomb.gif') },
      { name: 'notes.txt', type: 'text/plain', path: join(IMAGES, 'README.md') },
    ].map((file) => ({ ...file, base64: readFileSync(file.path).toString('base64') }));
    const dataTransfer = await page.evaluateHandle((dropped) => {
      const transfer = new DataTransfer();
      for (const file of dropped) {
        const bytes = Uint8Array.from(atob(file.base64), (char) => char.charCodeAt(0));
        transfer.items.add(new File([bytes], file.name, { type: file.type }));
      }
      return transfer;
    }, files);
    await page.dispatchEvent('form.drop', 'drop', { dataTransfer });
    await page.locator('li[data-image="carol/dropped"]').waitFor({ timeout: 15_000 });
    const uploads = page.getByRole('list', { name: 'Uploads' });
    await uploads.getByText(/notes: not a JPEG, PNG, GIF or WebP image/).waitFor();
    // The bomb posts (its bytes are what they are) or fails in words; the page goes on.
    await uploads.getByText(/bomb: (done|.+)/).waitFor();
    await page.getByText('Signed in as carol').waitFor();
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

  it('browser to browser: a private post reaches its audience live, byte for byte, and no one else', async () => {
    const erin = await newPage();
    const frank = await newPage();
    const gina = await newPage();
    try {
      await registerIn(erin.page, 'erin');
      await registerIn(frank.page, 'frank');
      await registerIn(gina.page, 'gina');
      const choosing = erin.page.waitForEvent('filechooser');
      await erin.page.getByLabel('Images (or drop them here)').click();
      await (await choosing).setFiles(join(IMAGES, 'hopper.png'));
      await erin.page.getByLabel('To (comma-separated; empty for everyone)').fill('frank');
      await erin.page.getByRole('button', { name: 'Post', exact: true }).click();
      await erin.page.screenshot({ path: join(ARTEFACTS, 'upload-progress.png') });
      // Frank is told at once and downloads exactly what erin picked.
      await frank.page.locator('li[data-image="erin/hopper"]').waitFor({ timeout: 15_000 });
      assert.deepEqual(
        await downloadIn(frank.page, 'erin/hopper'),
        readFileSync(join(IMAGES, 'hopper.png')),
      );
      await frank.page.screenshot({ path: join(ARTEFACTS, 'gallery.png'), fullPage: true });
      // A public post after it reaches gina; the private one never does.
      await erin.page
        .getByLabel('Images (or drop them here)')
        .setInputFiles(join(IMAGES, 'flower.jpg'));
      await erin.page.getByRole('button', { name: 'Post', exact: true }).click();
      await gina.page.locator('li[data-image="erin/flower"]').waitFor({ timeout: 15_000 });
      assert.equal(await gina.page.locator('li[data-image="erin/hopper"]').count(), 0);
      await gina.page.reload();
      await gina.page.locator('li[data-image="erin/flower"]').waitFor();
      assert.equal(await gina.page.locator('li[data-image="erin/hopper"]').count(), 0);
    } finally {
      await Promise.all([erin.context.close(), frank.context.close(), gina.context.close()]);
    }
  });

  it('the browser downloads a CLI user’s post byte for byte', async () => {
    const out = join(tempDir('cli-copy'), 'flower.jpg');
    await ok(bob, ['download', 'alice/flower', '--out', out]);
    assert.deepEqual(await downloadIn(page, 'alice/flower'), readFileSync(out));
  });

  it('is accessible (axe-core: no serious violation) and fits a phone', async () => {
    assert.deepEqual(await accessibilityProblems(page), [], 'the gallery');
    const phone = await browser.newContext({ viewport: { width: 375, height: 740 } });
    try {
      const small = await phone.newPage();
      await small.goto(`${web}/`);
      await small.getByRole('button', { name: 'Register' }).waitFor();
      assert.deepEqual(await accessibilityProblems(small), [], 'the register page');
      await small.getByLabel('Username').fill('ivy');
      await small.getByRole('button', { name: 'Register' }).click();
      await small.getByText('Signed in as ivy').waitFor({ timeout: 15_000 });
      await small.locator('li[data-image="alice/flower"]').waitFor();
      const overflow = await small.evaluate(
        () => document.documentElement.scrollWidth - window.innerWidth,
      );
      assert.ok(overflow <= 0, `${overflow} px wider than a phone`);
      assert.deepEqual(await accessibilityProblems(small), [], 'the gallery on a phone');
      await small.screenshot({ path: join(ARTEFACTS, 'phone.png'), fullPage: true });
      // Keyboard only: Tab reaches the file picker, and the Post button.
      await small.keyboard.press('Tab');
      const focused: string[] = [];
      for (let step = 0; step < 12; step += 1) {
        focused.push(
          await small.evaluate(
            () =>
              document.activeElement?.getAttribute('aria-label') ??
              document.activeElement?.textContent ??
              '',
          ),
        );
        await small.keyboard.press('Tab');
      }
      assert.ok(focused.includes('Post'), focused.join(' | '));
    } finally {
      await phone.close();
    }
  });

  it('a bit flipped in the stored ciphertext: a tampered error in words, nothing saved', async () => {
    const before = new Set(filesUnder(join(server.dataDir, 'blobs')));
    await ok(alice, ['post', 'fragile', join(IMAGES, 'flower2.jpg')]);
    const blob = filesUnder(join(server.dataDir, 'blobs')).find((file) => !before.has(file));
    assert.ok(blob !== undefined);
    const bytes = readFileSync(blob);
    bytes[bytes.length >> 1] = (bytes[bytes.length >> 1] ?? 0) ^ 0x10;
    writeFileSync(blob, bytes);
    await page.locator('li[data-image="alice/fragile"]').waitFor({ timeout: 15_000 });
    let saved = 0;
    page.on('download', () => {
      saved += 1;
    });
    await page.getByRole('button', { name: 'Download alice/fragile', exact: true }).click();
    const alert = page.getByRole('alert');
    await alert.getByText(/tampered with/).waitFor({ timeout: 15_000 });
    await page.screenshot({ path: join(ARTEFACTS, 'tampered.png') });
    assert.doesNotMatch((await alert.textContent()) ?? '', /\bat \w+ \(|Error:/, 'no stack trace');
    assert.equal(saved, 0, 'nothing saved');
  });

  it('an identity exported from the browser, imported into the CLI, posts as the same user', async () => {
    const hana = await newPage();
    const passphrase = 'hana: correct horse battery';
    try {
      await hana.page.goto(`${web}/`);
      await hana.page.getByLabel('Username').fill('hana');
      await hana.page.getByLabel(/Passphrase for your identity file/).fill(passphrase);
      await hana.page.getByRole('button', { name: 'Register' }).click();
      await hana.page.getByText('Signed in as hana').waitFor({ timeout: 15_000 });
      const saving = hana.page.waitForEvent('download');
      await hana.page.getByRole('button', { name: 'Export identity' }).click();
      const download = await saving;
      assert.equal(download.suggestedFilename(), 'hana.sisp-identity');
      const file = join(tempDir('identity'), 'hana.sisp-identity');
      writeFileSync(file, readFileSync(await download.path()));
      const home = tempDir('imported');
      const env = { SISP_PASSPHRASE: passphrase };
      const wrong = await runSisp(['--home', home, 'import', file], {
        env: { SISP_PASSPHRASE: 'not it' },
      });
      assert.equal(wrong.code, 1);
      assert.match(wrong.stderr, /wrong passphrase/);
      assert.equal(existsSync(join(home, 'identity.key')), false, 'nothing written');
      const imported = await runSisp(['--home', home, 'import', file], { env });
      assert.equal(imported.code, 0, imported.stderr);
      // No --server and no --ca: both come from the identity file.
      const posted = await runSisp(
        ['--home', home, 'post', 'from-cli', join(IMAGES, 'hopper.jpg')],
        { env },
      );
      assert.equal(posted.code, 0, posted.stderr);
      await hana.page.reload();
      await hana.page.locator('li[data-image="hana/from-cli"]').waitFor({ timeout: 15_000 });
    } finally {
      await hana.context.close();
    }
  });

  it('an identity exported from the CLI is used in a browser (a wrong passphrase stores nothing)', async () => {
    const file = join(tempDir('identity'), 'alice.sisp-identity');
    const exported = await alice.run(['export', file], {
      env: { SISP_NEW_PASSPHRASE: 'alice passphrase' },
    });
    assert.equal(exported.code, 0, exported.stderr);
    const elsewhere = await newPage();
    try {
      await elsewhere.page.goto(`${web}/`);
      const useIt = async (passphrase: string): Promise<void> => {
        await elsewhere.page.getByLabel(/^Identity file/).setInputFiles(file);
        await elsewhere.page.getByLabel("The identity file's passphrase").fill(passphrase);
        await elsewhere.page.getByRole('button', { name: 'Use this identity' }).click();
      };
      await useIt('wrong');
      await elsewhere.page
        .getByRole('alert')
        .getByText(/passphrase is wrong/)
        .waitFor({ timeout: 15_000 });
      await elsewhere.page.reload();
      await elsewhere.page.getByRole('button', { name: 'Register' }).waitFor();
      await useIt('alice passphrase');
      await elsewhere.page.getByText('Signed in as alice').waitFor({ timeout: 15_000 });
      await elsewhere.page.locator('li[data-image="alice/flower"]').waitFor();
    } finally {
      await elsewhere.context.close();
    }
  });

  it('a changed key for a pinned user is refused, both fingerprints shown', async () => {
    const dave = clientHome(server);
    await ok(dave, ['register', 'dave']);
    const first = JSON.parse(await ok(dave, ['whoami', '--json'])) as { fingerprint: string };
    await ok(dave, ['post', 'first', join(IMAGES, 'hopper.jpg')]);
    await page.locator('li[data-image="dave/first"]').waitFor({ timeout: 15_000 });
    // The server (or whoever holds its database) now puts other keys under dave's name.
    const db = new Database(join(server.dataDir, 'sisp.db'));
    try {
      db.pragma('foreign_keys = OFF');
      db.prepare('DELETE FROM users WHERE username = ?').run('dave');
    } finally {
      db.close();
    }
    const impostor = clientHome(server);
    await ok(impostor, ['register', 'dave']);
    const second = JSON.parse(await ok(impostor, ['whoami', '--json'])) as { fingerprint: string };
    assert.notEqual(first.fingerprint, second.fingerprint);
    await ok(impostor, ['post', 'second', join(IMAGES, 'hopper.png')]);
    const alert = page.getByRole('alert').filter({ hasText: /WARNING/ });
    await alert.waitFor({ timeout: 15_000 });
    const text = (await alert.textContent()) ?? '';
    assert.ok(text.includes(first.fingerprint), text);
    assert.ok(text.includes(second.fingerprint), text);
    assert.equal(await page.locator('li[data-image="dave/second"]').count(), 0);
    assert.equal(await page.locator('li[data-image="dave/first"]').count(), 0, 'hidden too');
    // The rest of the gallery goes on.
    await page.locator('li[data-image="alice/flower"]').waitFor();
    // The page offers no way around the check but the fingerprint read out of band.
    await page.locator('summary', { hasText: /Keys you have pinned/ }).click();
    await page.getByLabel('User whose key changed').fill('dave');
    await page.getByLabel(/The fingerprint they read you/).fill(first.fingerprint);
    await page.getByRole('button', { name: 'Accept the new key' }).click();
    await page
      .getByRole('alert')
      .getByText(/not that of the key/)
      .waitFor({ timeout: 15_000 });
    await page.getByLabel('User whose key changed').fill('dave');
    await page.getByLabel(/The fingerprint they read you/).fill(second.fingerprint);
    await page.getByRole('button', { name: 'Accept the new key' }).click();
    await page.locator('li[data-image="dave/second"]').waitFor({ timeout: 15_000 });
    assert.equal(
      await page
        .getByRole('alert')
        .filter({ hasText: /WARNING/ })
        .count(),
      0,
    );
    await page.screenshot({ path: join(ARTEFACTS, 'key-changed.png') });
  });

  it('no page errors, console errors or requests to other origins', () => {
    assert.deepEqual(problems, []);
  });

  // Last: it restarts the server, which every open page notices.
  it('reconnects by itself after the server restarts, and catches up', async () => {
    const port = new URL(server.url).port;
    await server.stop();
    await page
      .getByRole('alert')
      .getByText(/reconnecting/)
      .waitFor({ timeout: 15_000 });
    server = await startServer({ dataDir: server.dataDir, port: Number(port) });
    await ok(alice, ['post', 'after-restart', join(IMAGES, 'hopper.jpg')]);
    await page.locator('li[data-image="alice/after-restart"]').waitFor({ timeout: 60_000 });
    assert.equal(
      await page
        .getByRole('alert')
        .getByText(/reconnecting/)
        .count(),
      0,
    );
  });
});
