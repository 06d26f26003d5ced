/**
 * A real PostgreSQL for the tests: SISP_TEST_PG if set, else the machine's Debian
 * cluster (installed but not running here), started if it is down,
 * with a role and a database made for the tests. `.ci/run` does the same before
 * `npm test`; doing it here too keeps `npm test` whole on a fresh machine.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import pg from 'pg';

export const TEST_PG_URL =
  process.env.SISP_TEST_PG ?? 'postgres://sisp:sisp@127.0.0.1:5432/sisp_test';

async function reachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function asPostgres(sql: string): void {
  execFileSync('su', ['postgres', '-c', `psql -v ON_ERROR_STOP=1 -q -c "${sql}"`], {
    stdio: 'ignore',
  });
}

/** The Debian cluster this machine runs (version and name), from pg_lsclusters. */
function localCluster(): [string, string] {
  const [version = '15', cluster = 'main'] =
    execFileSync('pg_lsclusters', ['-h'], { encoding: 'utf8' }).split('\n')[0]?.split(/\s+/) ?? [];
  return [version, cluster];
}

/** Restarts the local cluster (fast shutdown: every connection is cut), as an outage would. */
export function restartPostgres(): void {
  if (process.env.SISP_TEST_PG !== undefined)
    throw new Error('cannot restart an external PostgreSQL (SISP_TEST_PG)');
  execFileSync('pg_ctlcluster', [...localCluster(), 'restart', '-m', 'fast'], { stdio: 'ignore' });
}

/** The test database's URL, once it answers. */
export async function testPostgres(): Promise<string> {
  if (await reachable(TEST_PG_URL)) return TEST_PG_URL;
  if (process.env.SISP_TEST_PG !== undefined)
    throw new Error(`SISP_TEST_PG=${TEST_PG_URL} does not answer`);
  if (!existsSync('/usr/bin/pg_ctlcluster'))
    throw new Error('no PostgreSQL: apt-get install -y postgresql, or set SISP_TEST_PG');
  try {
    execFileSync('pg_ctlcluster', [...localCluster(), 'start'], { stdio: 'ignore' });
  } catch {
    // Already running (and the role or database missing): go on to make them.
  }
  try {
    asPostgres("CREATE ROLE sisp LOGIN SUPERUSER PASSWORD 'sisp'");
  } catch {
    // It exists.
  }
  try {
    asPostgres('CREATE DATABASE sisp_test OWNER sisp');
  } catch {
    // It exists.
  }
  if (!(await reachable(TEST_PG_URL)))
    throw new Error(`PostgreSQL at ${TEST_PG_URL} does not answer`);
  return TEST_PG_URL;
}

let schemas = 0;

/**
 * A connection string whose tables live in a schema of their own, made empty now,
 * and how to drop it: tests (and test runs) side by side never share tables.
 */
export async function freshSchema(
  base: string,
  label = 'test',
): Promise<{ url: string; drop: () => Promise<void> }> {
  const schema = `sisp_${label}_${process.pid}_${schemas++}`;
  const run = async (sql: string): Promise<void> => {
    const admin = new pg.Client({ connectionString: base });
    await admin.connect();
    try {
      await admin.query(sql);
    } finally {
      await admin.end();
    }
  };
  await run(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`);
  const url = new URL(base);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return { url: url.toString(), drop: () => run(`DROP SCHEMA IF EXISTS ${schema} CASCADE`) };
}
