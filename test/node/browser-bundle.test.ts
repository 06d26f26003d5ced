/** The build's browser bundle of the client core, and its refusal of Node imports. */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { build } from 'esbuild';
import { bundleCore, noNodeImports } from '../../scripts/bundle-core.mjs';

const dir = mkdtempSync(join(tmpdir(), 'sisp-bundle-'));
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function bundleErrors(contents: string): Promise<string[]> {
  try {
    await build({
      stdin: { contents, resolveDir: process.cwd(), loader: 'ts' },
      bundle: true,
      platform: 'browser',
      write: false,
      logLevel: 'silent',
      plugins: [noNodeImports],
    });
    return [];
  } catch (error) {
    return ((error as { errors?: { text: string }[] }).errors ?? []).map((e) => e.text);
  }
}

describe('the client core bundled for browsers', () => {
  it('bundles for platform "browser" with nothing of Node in it', async () => {
    const outfile = join(dir, 'core.js');
    await bundleCore(outfile);
    const text = readFileSync(outfile, 'utf8');
    assert.ok(text.length > 10_000);
    assert.ok(!text.includes('node:'), 'no node: specifier left in the bundle');
  });

  it('fails on a Node built-in, with or without "node:", and on the Node-only layers', async () => {
    for (const source of [
      "import 'node:fs';",
      "import 'path';",
      "import './src/client/home.ts';",
    ]) {
      const errors = await bundleErrors(source);
      assert.ok(errors.length > 0, `accepted: ${source}`);
    }
    const [message] = await bundleErrors(
      "import { readFile } from 'node:fs/promises'; readFile('x');",
    );
    assert.match(message ?? '', /Node built-in "node:fs\/promises".*browser/);
  });
});
