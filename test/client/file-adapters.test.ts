import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FileSink } from '../../src/client/file-sink.js';
import { openFileSource } from '../../src/client/file-source.js';
import type { Manifest } from '../../src/crypto/manifest.js';
import { concatBytes } from '../../src/protocol/bytes.js';

const dir = mkdtempSync(join(tmpdir(), 'sisp-files-'));
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

const manifest = (name: string): Manifest =>
  ({ name, type: 'image/png', size: 0 }) as unknown as Manifest;

describe('FileSource: a file as the plaintext of a post', () => {
  for (const size of [0, 1, 1024 * 1024 - 1, 1024 * 1024, 1024 * 1024 + 1, 3 * 1024 * 1024 + 5]) {
    it(`${size} bytes: declares the file's size and yields exactly its bytes`, async () => {
      const bytes = randomBytes(size);
      const path = join(dir, `source-${size}`);
      writeFileSync(path, bytes);
      const source = await openFileSource(path, 'image/png');
      try {
        assert.equal(source.size, size);
        const pieces: Uint8Array[] = [];
        // Pieces are valid until the next is asked for: copy each, as a consumer would use it.
        for await (const piece of source.read()) pieces.push(new Uint8Array(piece));
        assert.deepEqual(concatBytes(...pieces), new Uint8Array(bytes));
      } finally {
        await source.close();
      }
    });
  }

  it('a missing file fails with its errno code', async () => {
    await assert.rejects(openFileSource(join(dir, 'missing'), 'image/png'), { code: 'ENOENT' });
  });
});

describe('FileSink: plaintext to a temporary file, renamed on commit', () => {
  it('writes pieces at their positions even when written out of order, then renames', async () => {
    const out = join(dir, 'sink-ok');
    const sink = new FileSink(out);
    await sink.begin({ manifest: manifest('sunset') });
    const a = randomBytes(100_000);
    const b = randomBytes(50_000);
    const c = randomBytes(7);
    // Not awaited one by one: the sink must keep the order of calls, not of completions.
    await Promise.all([sink.write([a, b]), sink.write([]), sink.write([c])]);
    assert.equal(existsSync(join(out, 'sunset.png')), false, 'nothing visible before commit');
    const path = await sink.commit();
    assert.equal(path, join(out, 'sunset.png'));
    assert.deepEqual(readFileSync(path), Buffer.concat([a, b, c]));
    assert.deepEqual(readdirSync(out), ['sunset.png']);
  });

  it('abort leaves nothing behind', async () => {
    const out = join(dir, 'sink-abort');
    const sink = new FileSink(out);
    await sink.begin({ manifest: manifest('gone') });
    await sink.write([randomBytes(1000)]);
    await sink.abort();
    assert.deepEqual(readdirSync(out), []);
  });
});
