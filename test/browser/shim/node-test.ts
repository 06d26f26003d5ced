/**
 * node:test, as much of it as the isomorphic tests use (describe, it, test and the
 * four hooks), for running them in a browser page. Registration works as in Node:
 * describe() runs its body at once, it() registers; run() then executes everything
 * in order and returns one result per test.
 */

type Body = () => unknown;

interface Suite {
  readonly name: string;
  readonly parent: Suite | undefined;
  readonly children: (Suite | Case)[];
  readonly before: Body[];
  readonly after: Body[];
  readonly beforeEach: Body[];
  readonly afterEach: Body[];
}

interface Case {
  readonly name: string;
  readonly body: Body;
}

export interface Result {
  readonly name: string;
  readonly ok: boolean;
  readonly error?: string;
  readonly ms: number;
}

const root: Suite = newSuite('', undefined);
let current = root;

function newSuite(name: string, parent: Suite | undefined): Suite {
  return { name, parent, children: [], before: [], after: [], beforeEach: [], afterEach: [] };
}

export function describe(name: string, body: () => void): void {
  const suite = newSuite(name, current);
  current.children.push(suite);
  const outer = current;
  current = suite;
  try {
    body();
  } finally {
    current = outer;
  }
}

export function it(name: string, body: Body): void {
  current.children.push({ name, body });
}

export const test = it;
export const before = (body: Body): void => void current.before.push(body);
export const after = (body: Body): void => void current.after.push(body);
export const beforeEach = (body: Body): void => void current.beforeEach.push(body);
export const afterEach = (body: Body): void => void current.afterEach.push(body);

function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}\n${error.stack ?? ''}`;
  return String(error);
}

function eachHooks(suite: Suite | undefined, kind: 'beforeEach' | 'afterEach'): Body[] {
  const chain: Body[][] = [];
  for (let s = suite; s !== undefined; s = s.parent) chain.unshift(s[kind]);
  return (kind === 'beforeEach' ? chain : chain.reverse()).flat();
}

async function runSuite(suite: Suite, prefix: string, results: Result[]): Promise<void> {
  const path = suite.name === '' ? prefix : `${prefix}${suite.name} > `;
  try {
    for (const hook of suite.before) await hook();
  } catch (error) {
    results.push({ name: `${path}(before)`, ok: false, error: describeError(error), ms: 0 });
    return;
  }
  for (const child of suite.children) {
    if ('children' in child) {
      await runSuite(child, path, results);
      continue;
    }
    const started = performance.now();
    try {
      for (const hook of eachHooks(suite, 'beforeEach')) await hook();
      await child.body();
      for (const hook of eachHooks(suite, 'afterEach')) await hook();
      results.push({ name: path + child.name, ok: true, ms: performance.now() - started });
    } catch (error) {
      results.push({
        name: path + child.name,
        ok: false,
        error: describeError(error),
        ms: performance.now() - started,
      });
    }
  }
  for (const hook of suite.after) {
    try {
      await hook();
    } catch (error) {
      results.push({ name: `${path}(after)`, ok: false, error: describeError(error), ms: 0 });
    }
  }
}

/** Runs every registered test, in registration order. */
export async function run(): Promise<Result[]> {
  const results: Result[] = [];
  await runSuite(root, '', results);
  return results;
}
