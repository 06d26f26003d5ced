/**
 * Small schema combinators: every decoded value passes through one before use.
 * A schema is a function that returns the typed value or throws E_BAD_REQUEST
 * naming the offending path. Objects are closed: unknown keys are refused, so a
 * peer cannot smuggle fields past validation.
 */
import { sispError, type ErrorCode } from './errors.js';

export type Schema<T> = (value: unknown, path: string) => T;
export type Infer<S> = S extends Schema<infer T> ? T : never;

function fail(path: string, what: string, code: ErrorCode = 'E_BAD_REQUEST'): never {
  throw sispError(code, `invalid field ${path}: ${what}`);
}

export function uint(max = Number.MAX_SAFE_INTEGER, min = 0): Schema<number> {
  return (value, path) => {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
      fail(path, `expected an integer in [${min}, ${max}]`);
    }
    return value;
  };
}

export function bytes(
  options: { min?: number; max: number } | { exact: number },
): Schema<Uint8Array> {
  const min = 'exact' in options ? options.exact : (options.min ?? 0);
  const max = 'exact' in options ? options.exact : options.max;
  return (value, path) => {
    if (!(value instanceof Uint8Array)) fail(path, 'expected bytes');
    if (value.length < min || value.length > max) {
      fail(path, min === max ? `expected ${min} bytes` : `expected ${min} to ${max} bytes`);
    }
    return value;
  };
}

export function text(options: { max: number; min?: number; pattern?: RegExp }): Schema<string> {
  const min = options.min ?? 0;
  return (value, path) => {
    if (typeof value !== 'string') fail(path, 'expected text');
    // Length in UTF-16 units bounds the cost of everything after; byte length is
    // already bounded by the frame limit.
    if (value.length < min || value.length > options.max) {
      fail(path, `expected ${min} to ${options.max} characters`);
    }
    if (options.pattern !== undefined && !options.pattern.test(value)) fail(path, 'not allowed');
    return value;
  };
}

export function bool(): Schema<boolean> {
  return (value, path) => {
    if (typeof value !== 'boolean') fail(path, 'expected a boolean');
    return value;
  };
}

export function literal<const T extends string | number>(expected: T): Schema<T> {
  return (value, path) => {
    if (value !== expected) fail(path, `expected ${String(expected)}`);
    return expected;
  };
}

export function oneOf<const T extends readonly (string | number)[]>(choices: T): Schema<T[number]> {
  return (value, path) => {
    if (!choices.some((choice) => choice === value))
      fail(path, `expected one of ${choices.join(', ')}`);
    return value as T[number];
  };
}

export function array<T>(item: Schema<T>, options: { max: number; min?: number }): Schema<T[]> {
  return (value, path) => {
    if (!Array.isArray(value)) fail(path, 'expected an array');
    if (value.length < (options.min ?? 0) || value.length > options.max) {
      fail(path, `expected ${options.min ?? 0} to ${options.max} items`);
    }
    return value.map((element: unknown, index) => item(element, `${path}[${index}]`));
  };
}

type Fields = Record<string, Schema<unknown>>;
type Struct<R extends Fields, O extends Fields> = { [K in keyof R]: Infer<R[K]> } & {
  [K in keyof O]?: Infer<O[K]>;
};

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  if (value instanceof Uint8Array) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

// The default means "no optional fields"; an empty mapped type is exactly that.
// eslint-disable-next-line @typescript-eslint/no-generated-empty-object-type
export function struct<R extends Fields, O extends Fields = Record<never, never>>(
  required: R,
  optional?: O,
): Schema<Struct<R, O>> {
  const known = new Set([...Object.keys(required), ...Object.keys(optional ?? {})]);
  return (value, path) => {
    if (!isPlainRecord(value)) fail(path, 'expected a map');
    for (const key of Object.keys(value)) {
      if (!known.has(key)) fail(`${path}.${key.slice(0, 32)}`, 'unknown field');
    }
    const out: Record<string, unknown> = {};
    for (const [key, schema] of Object.entries(required)) {
      if (!Object.hasOwn(value, key)) fail(`${path}.${key}`, 'missing');
      out[key] = schema(value[key], `${path}.${key}`);
    }
    for (const [key, schema] of Object.entries(optional ?? {})) {
      if (Object.hasOwn(value, key)) out[key] = schema(value[key], `${path}.${key}`);
    }
    return out as Struct<R, O>;
  };
}

/** Narrows a schema with a predicate, e.g. a canonical-form check; `code` says what failing it means. */
export function refine<T>(
  base: Schema<T>,
  predicate: (value: T) => boolean,
  what: string,
  code: ErrorCode = 'E_BAD_REQUEST',
): Schema<T> {
  return (value, path) => {
    const parsed = base(value, path);
    if (!predicate(parsed)) fail(path, what, code);
    return parsed;
  };
}
