import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { EnvelopeEncryptor, generateContentKey } from '../../src/crypto/envelope.js';
import { sha256Digest } from '../../src/crypto/hash.js';
import { envelopeContext, type Manifest } from '../../src/crypto/manifest.js';
import { randomBytes } from '../../src/crypto/webcrypto.js';
import { EnvelopeReceiver, type ReceiveJob } from '../../src/core/receive.js';
import { memorySink, type ImageSink } from '../../src/core/sink.js';
import { concatBytes } from '../../src/protocol/bytes.js';
import { isSispError } from '../../src/protocol/errors.js';
import { BACKENDS } from '../support/backends.js';

const crypto = BACKENDS[BACKENDS.length - 1]?.crypto ?? assert.fail('no backend');

async function seal(job: ReceiveJob, plaintext: Uint8Array): Promise<Uint8Array> {
  const encryptor = await EnvelopeEncryptor.create({
    key: job.key,
    context: envelopeContext(job.imageId),
    aead: job.crypto.aead,
  });
  return concatBytes(
    encryptor.header(),
    ...(await encryptor.update(plaintext)),
    await encryptor.finish(),
  );
}

function newJob(): ReceiveJob {
  return { key: generateContentKey(), imageId: randomBytes(16), crypto };
}

async function feed(receiver: EnvelopeReceiver, envelope: Uint8Array, step: number): Promise<void> {
  for (let offset = 0; offset < envelope.length; offset += step)
    await receiver.write(envelope.subarray(offset, offset + step));
}

const noEvents = { onWritten: () => undefined, onFailure: () => undefined };
const someManifest = { size: 1 } as Manifest;

describe('EnvelopeReceiver: the receiving half of a download', () => {
  it('hands the plaintext to the sink, credits every envelope byte once, returns the digest', async () => {
    const job = newJob();
    const plaintext = randomBytes(200_000);
    const envelope = await seal(job, plaintext);
    const sink = memorySink();
    await sink.begin({ manifest: someManifest, ownerFingerprint: '' });
    let credited = 0;
    const receiver = new EnvelopeReceiver(job, sink, {
      onWritten: (bytes) => (credited += bytes),
      onFailure: (error) => assert.fail(String(error)),
    });
    await feed(receiver, envelope, 65_536);
    const received = await receiver.finish();
    assert.equal(received.written, plaintext.length);
    assert.deepEqual(received.digest, await sha256Digest(envelope));
    assert.equal(credited, envelope.length);
    assert.deepEqual(await sink.commit(), plaintext);
  });

  it('a flipped bit is refused as E_TAMPERED at its chunk, and later writes are refused too', async () => {
    const job = newJob();
    const envelope = await seal(job, randomBytes(100_000));
    envelope[50_000] = (envelope[50_000] ?? 0) ^ 1;
    const receiver = new EnvelopeReceiver(job, memorySink(), noEvents);
    await assert.rejects(feed(receiver, envelope, 65_536), (e) => isSispError(e, 'E_TAMPERED'));
    await assert.rejects(receiver.write(new Uint8Array(10)), (e) => isSispError(e, 'E_TAMPERED'));
  });

  it('a truncated envelope fails at finish, not silently', async () => {
    const job = newJob();
    const envelope = await seal(job, randomBytes(100_000));
    const receiver = new EnvelopeReceiver(job, memorySink(), noEvents);
    await feed(receiver, envelope.subarray(0, envelope.length - 20), 65_536);
    await assert.rejects(receiver.finish(), (e) => isSispError(e, 'E_TAMPERED'));
  });

  it('a sink that fails ends the download: reported once, and later writes refused', async () => {
    const job = newJob();
    const envelope = await seal(job, randomBytes(300_000));
    const broken: ImageSink<void> = {
      begin: () => Promise.resolve(),
      write: () => Promise.reject(new Error('disk full')),
      commit: () => Promise.resolve(),
      abort: () => Promise.resolve(),
    };
    const failures: unknown[] = [];
    const receiver = new EnvelopeReceiver(job, broken, {
      onWritten: () => undefined,
      onFailure: (error) => failures.push(error),
    });
    await receiver.write(envelope.subarray(0, 100_000));
    await receiver.settle();
    assert.equal(failures.length, 1);
    await assert.rejects(receiver.write(envelope.subarray(100_000)), /disk full/);
    await assert.rejects(receiver.finish(), /disk full/);
  });
});
