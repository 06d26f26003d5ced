/**
 * The envelope as async iterables and web TransformStreams. The opening iterator
 * keeps failing after its first failure, as the C2SP streaming rule requires.
 */
import type { SispError } from '../protocol/errors.js';
import { EnvelopeDecryptor, EnvelopeEncryptor, type EnvelopeOptions } from './envelope.js';

export type ByteSource = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

export async function* sealStream(
  source: ByteSource,
  options: EnvelopeOptions & { readonly salt?: Uint8Array },
): AsyncGenerator<Uint8Array, void, undefined> {
  const encryptor = await EnvelopeEncryptor.create(options);
  yield encryptor.header();
  for await (const piece of source) {
    for (const sealed of await encryptor.update(piece)) yield sealed;
  }
  yield await encryptor.finish();
}

/**
 * Releases plaintext chunk by chunk, only after each chunk authenticates. After a
 * failure every further next() rejects with the same E_TAMPERED error.
 */
export function openStream(
  source: ByteSource,
  options: EnvelopeOptions,
): AsyncIterableIterator<Uint8Array> {
  const decryptor = new EnvelopeDecryptor(options);
  const input: AsyncIterator<Uint8Array> | Iterator<Uint8Array> =
    Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]();
  const ready: Uint8Array[] = [];
  let failure: SispError | undefined;
  let done = false;

  async function next(): Promise<IteratorResult<Uint8Array, undefined>> {
    for (;;) {
      if (failure !== undefined) throw failure;
      const head = ready.shift();
      if (head !== undefined) return { done: false, value: head };
      if (done) return { done: true, value: undefined };
      try {
        const step = await input.next();
        if (step.done === true) {
          ready.push(...(await decryptor.finish()));
          done = true;
        } else {
          ready.push(...(await decryptor.update(step.value)));
        }
      } catch (error) {
        failure = error as SispError;
        ready.length = 0;
        throw failure;
      }
    }
  }

  const iterator: AsyncIterableIterator<Uint8Array> = {
    next,
    async return() {
      done = true;
      await input.return?.();
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}

export function sealTransform(options: EnvelopeOptions): TransformStream<Uint8Array, Uint8Array> {
  let encryptor: EnvelopeEncryptor | undefined;
  return new TransformStream({
    async start(controller) {
      encryptor = await EnvelopeEncryptor.create(options);
      controller.enqueue(encryptor.header());
    },
    async transform(chunk, controller) {
      for (const sealed of await (encryptor as EnvelopeEncryptor).update(chunk))
        controller.enqueue(sealed);
    },
    async flush(controller) {
      controller.enqueue(await (encryptor as EnvelopeEncryptor).finish());
    },
  });
}

export function openTransform(options: EnvelopeOptions): TransformStream<Uint8Array, Uint8Array> {
  const decryptor = new EnvelopeDecryptor(options);
  return new TransformStream({
    async transform(chunk, controller) {
      for (const plain of await decryptor.update(chunk)) controller.enqueue(plain);
    },
    async flush(controller) {
      for (const plain of await decryptor.finish()) controller.enqueue(plain);
    },
  });
}
