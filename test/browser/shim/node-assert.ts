/**
 * node:assert's strict mode, as much of it as the isomorphic tests use, for running
 * them in a browser page. Same semantics where it matters: deepEqual compares
 * prototypes and typed-array contents; throws/rejects take a validator function, a
 * RegExp, an error class or an object of expected properties.
 */

export class AssertionError extends Error {
  override readonly name = 'AssertionError';
}

function fail(message?: string | Error): never {
  if (message instanceof Error) throw message;
  throw new AssertionError(message ?? 'Failed');
}

function show(value: unknown): string {
  if (value instanceof Uint8Array) return `Uint8Array(${value.length})`;
  try {
    // JSON.stringify gives undefined for functions and undefined itself.
    const text = JSON.stringify(value) as string | undefined;
    return text ?? String(value);
  } catch {
    return String(value);
  }
}

function isDeepEqual(a: unknown, b: unknown, seen = new Map<object, object>()): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (seen.get(a) === b) return true;
  seen.set(a, b);
  if (ArrayBuffer.isView(a) && ArrayBuffer.isView(b)) {
    const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    return x.length === y.length && x.every((byte, i) => byte === y[i]);
  }
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  if (a instanceof Map && b instanceof Map) {
    if (a.size !== b.size) return false;
    for (const [key, value] of a)
      if (!b.has(key) || !isDeepEqual(value, b.get(key), seen)) return false;
    return true;
  }
  if (a instanceof Set && b instanceof Set)
    return a.size === b.size && [...a].every((v) => b.has(v));
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  if (keysA.length !== keysB.length) return false;
  const recordB = b as Record<string, unknown>;
  return keysA.every(
    (key) =>
      Object.hasOwn(b, key) && isDeepEqual((a as Record<string, unknown>)[key], recordB[key], seen),
  );
}

type Expected =
  | ((error: unknown) => boolean)
  | RegExp
  | (abstract new (...args: never[]) => unknown)
  | Record<string, unknown>;

function matches(error: unknown, expected: Expected | undefined): boolean {
  if (expected === undefined) return true;
  if (expected instanceof RegExp) {
    const text = error instanceof Error ? error.message : String(error);
    return expected.test(text) || expected.test(String(error));
  }
  if (typeof expected === 'function') {
    if (
      expected.prototype !== undefined &&
      error instanceof (expected as abstract new () => unknown)
    )
      return true;
    if (Object.prototype.isPrototypeOf.call(Error, expected)) return false;
    return (expected as (error: unknown) => unknown)(error) === true;
  }
  if (typeof error !== 'object' || error === null) return false;
  const actual = error as Record<string, unknown>;
  return Object.entries(expected).every(([key, want]) =>
    want instanceof RegExp ? want.test(String(actual[key])) : isDeepEqual(actual[key], want),
  );
}

export const strict = {
  AssertionError,
  fail,
  ok(value: unknown, message?: string | Error): void {
    if (value === false || value === 0 || value === '' || value === null || value === undefined)
      fail(message ?? `expected a truthy value, got ${show(value)}`);
  },
  equal(actual: unknown, expected: unknown, message?: string | Error): void {
    if (!Object.is(actual, expected))
      fail(message ?? `expected ${show(expected)}, got ${show(actual)}`);
  },
  notEqual(actual: unknown, expected: unknown, message?: string | Error): void {
    if (Object.is(actual, expected)) fail(message ?? `expected anything but ${show(expected)}`);
  },
  deepEqual(actual: unknown, expected: unknown, message?: string | Error): void {
    if (!isDeepEqual(actual, expected))
      fail(message ?? `not deep-equal: got ${show(actual)}, expected ${show(expected)}`);
  },
  notDeepEqual(actual: unknown, expected: unknown, message?: string | Error): void {
    if (isDeepEqual(actual, expected))
      fail(message ?? `expected a difference from ${show(expected)}`);
  },
  match(text: string, pattern: RegExp, message?: string | Error): void {
    if (!pattern.test(text)) fail(message ?? `${show(text)} does not match ${String(pattern)}`);
  },
  throws(body: () => unknown, expected?: Expected, message?: string | Error): void {
    try {
      body();
    } catch (error) {
      if (!matches(error, expected)) fail(message ?? `unexpected error: ${String(error)}`);
      return;
    }
    fail(message ?? 'expected an exception');
  },
  async rejects(
    promise: Promise<unknown> | (() => Promise<unknown>),
    expected?: Expected,
    message?: string | Error,
  ): Promise<void> {
    try {
      await (typeof promise === 'function' ? promise() : promise);
    } catch (error) {
      if (!matches(error, expected)) fail(message ?? `unexpected rejection: ${String(error)}`);
      return;
    }
    fail(message ?? 'expected a rejection');
  },
};

export default strict;
