import { strict as assert } from 'node:assert';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { EnvelopeToFile, type OpenJob } from '../../src/client/open-file.js';
import { EnvelopeEncryptor, generateContentKey } from '../../src/crypto/envelope.js';
import { envelopeContext } from '../../src/crypto/manifest.js';
import { nodeAes256Gcm } from '../../src/node/aead.js';
import { concatBytes } from '../../src/protocol/bytes.js';
import { isSispError } from '../../src/protocol/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'sisp-open-'));
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function seal(job: OpenJob, plaintext: Uint8Array): Promise<Uint8Array> {
  const encryptor = await EnvelopeEncryptor.create({
    key: job.key,
    context: envelopeContext(job.imageId),
    aead: nodeAes256Gcm,
  });
  return concatBytes(
    encryptor.header(),
    ...(await encryptor.update(plaintext)),
    await encryptor.finish(),
  );
}

function newJob(name: string): OpenJob {
  return { key: generateContentKey(), imageId: randomBytes(16), path: join(dir, name) };
}

/** Feeds the envelope in pieces of `step` bytes, as frames would arrive. */
async function feed(sink: EnvelopeToFile, envelope: Uint8Array, step: number): Promise<void> {
  for (let offset = 0; offset < envelope.length; offset += step)
    await sink.write(envelope.subarray(offset, offset + step));
}

describe('EnvelopeToFile: the receiving half of a download', () => {
  it('writes the plaintext, credits every envelope byte once, and returns the digest', async () => {
    const job = newJob('whole');
    const plaintext = randomBytes(200_000);
    const envelope = await seal(job, plaintext);
    let credited = 0;
    const sink = await EnvelopeToFile.create(job, {
      onWritten: (bytes) => (credited += bytes),
      onFailure: (error) => assert.fail(error),
    });
    await feed(sink, envelope, 65_536);
    const opened = await sink.finish();
    assert.equal(opened.written, plaintext.length);
    assert.deepEqual(opened.digest, new Uint8Array(createHash('sha256').update(envelope).digest()));
    assert.equal(credited, envelope.length);
    assert.deepEqual(readFileSync(job.path), plaintext);
  });

  it('a flipped bit is refused as E_TAMPERED at its chunk, and later writes are refused too', async () => {
    const job = newJob('tampered');
    const envelope = await seal(job, randomBytes(100_000));
    envelope[50_000] = (envelope[50_000] ?? 0) ^ 1;
    const sink = await EnvelopeToFile.create(job, {
      onWritten: () => undefined,
      onFailure: () => undefined,
    });
    await assert.rejects(feed(sink, envelope, 65_536), (e) => isSispError(e, 'E_TAMPERED'));
    await assert.rejects(sink.write(new Uint8Array(10)), (e) => isSispError(e, 'E_TAMPERED'));
    await sink.abort();
  });

  it('a truncated envelope fails at finish, not silently', async () => {
    const job = newJob('truncated');
    const envelope = await seal(job, randomBytes(100_000));
    const sink = await EnvelopeToFile.create(job, {
      onWritten: () => undefined,
      onFailure: () => undefined,
    });
    await feed(sink, envelope.subarray(0, envelope.length - 20), 65_536);
    await assert.rejects(sink.finish(), (e) => isSispError(e, 'E_TAMPERED'));
    await sink.abort();
  });

  it('never overwrites an existing file', async () => {
    const job = newJob('existing');
    writeFileSync(job.path, 'someone else');
    await assert.rejects(
      EnvelopeToFile.create(job, { onWritten: () => undefined, onFailure: () => undefined }),
      { code: 'EEXIST' },
    );
    assert.equal(readFileSync(job.path, 'utf8'), 'someone else');
  });
});
