/**
 * TLS session resumption: a client that connects again in the same process resumes
 * its session (the server counts full and resumed handshakes), across a server
 * restart too, since the ticket keys are kept in the data directory; a ticket the
 * server can no longer read falls back to a full handshake that works.
 */
import { strict as assert } from 'node:assert';
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SispClient } from '../../src/core/client.js';
import { DEFAULT_LIMITS } from '../../src/server/config.js';
import { startServer, type RunningServer } from '../../src/server/server.js';
import { TICKET_KEYS_FILE } from '../../src/server/ticket-keys.js';
import { clientOptions, registered, testServer, type TestServer } from './harness.js';
import type { MemoryStorage } from '../../src/core/storage.js';

async function handshakes(running: RunningServer, kind: 'full' | 'resumed'): Promise<number> {
  const metric = await running.context.metrics.tlsHandshakes.get();
  return metric.values.find((value) => value.labels.kind === kind)?.value ?? 0;
}

describe('TLS session resumption', () => {
  let server: TestServer;
  let storage: MemoryStorage;
  let running: RunningServer;

  before(async () => {
    server = await testServer();
    running = server.running;
    const alice = await registered(server, 'alice');
    storage = alice.storage;
    alice.client.close();
  });
  after(async () => {
    await running.stop();
    rmSync(server.dataDir, { recursive: true, force: true });
  });

  const signIn = async (): Promise<void> => {
    const client = await SispClient.login(clientOptions(server, storage));
    assert.equal(client.username, 'alice');
    client.close();
  };

  it('a second connection from the same process resumes; the ticket keys are private', async () => {
    const resumedBefore = await handshakes(running, 'resumed');
    await signIn();
    await signIn();
    assert.ok((await handshakes(running, 'resumed')) >= resumedBefore + 2);
    assert.ok((await handshakes(running, 'full')) >= 1);
    assert.equal(statSync(join(server.dataDir, TICKET_KEYS_FILE)).mode & 0o777, 0o600);
  });

  const restart = async (): Promise<void> => {
    await running.stop();
    running = await startServer({
      dataDir: server.dataDir,
      host: '127.0.0.1',
      port: Number(new URL(server.url).port),
      tlsNames: [],
      limits: DEFAULT_LIMITS,
      logToStdout: false,
      logLevel: 'info',
    });
  };

  it('resumes across a restart of the server (same data directory)', async () => {
    await restart();
    await signIn();
    assert.equal(await handshakes(running, 'resumed'), 1);
    assert.equal(await handshakes(running, 'full'), 0);
  });

  it('a ticket the server cannot read any more: a full handshake, and the sign-in works', async () => {
    rmSync(join(server.dataDir, TICKET_KEYS_FILE));
    await restart();
    await signIn();
    assert.equal(await handshakes(running, 'resumed'), 0);
    assert.equal(await handshakes(running, 'full'), 1);
    await signIn();
    assert.equal(await handshakes(running, 'resumed'), 1, 'and the new ticket is used next');
  });
});
