/**
 * What an operator's tooling sees, from the real executable: /healthz and /readyz on
 * the public port (and nothing more there), and on the metrics listener Prometheus
 * metrics that move with real traffic: requests by type and code, bytes, the store's
 * and the blob store's latencies, notification latency, connections.
 */
import { strict as assert } from 'node:assert';
import { readFileSync, renameSync, statSync } from 'node:fs';
import { get } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { IMAGES, registered, startServer, type ClientHome, type ServerProcess } from './harness.js';

interface Answer {
  readonly status: number;
  readonly body: string;
}

function fetchTls(url: string, ca: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    get(url, { ca }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => {
        resolve({ status: response.statusCode ?? 0, body });
      });
    }).on('error', reject);
  });
}

async function fetchPlain(url: string): Promise<Answer> {
  const response = await fetch(url);
  return { status: response.status, body: await response.text() };
}

/** The value of one sample line, `name{labels} value`; 0 when absent. */
function sample(metrics: string, series: string): number {
  const line = metrics.split('\n').find((entry) => entry.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

describe('health, readiness and metrics', () => {
  let server: ServerProcess;
  let web: string;
  let metricsUrl: string;
  let ca: string;
  let alice: ClientHome;
  let bob: ClientHome;

  before(async () => {
    server = await startServer({ env: { SISP_METRICS_PORT: '0' } });
    web = server.url.replace(/^wss:/, 'https:').replace(/\/$/, '');
    // The metrics line follows the "sisp serving" line the harness waits for.
    let match: RegExpExecArray | null = null;
    for (let tries = 0; tries < 100 && match === null; tries += 1) {
      match = /metrics: (http:\/\/127\.0\.0\.1:\d+\/)metrics/.exec(server.output());
      if (match === null) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.ok(match?.[1] !== undefined, server.output());
    metricsUrl = match[1];
    ca = readFileSync(server.caPath, 'utf8');
    [alice, bob] = await registered(server, 'alice', 'bob');
  });
  after(async () => {
    await server.stop();
  });

  it('the public port answers /healthz and /readyz, and never /metrics', async () => {
    assert.deepEqual(await fetchTls(`${web}/healthz`, ca), { status: 200, body: 'ok\n' });
    const ready = await fetchTls(`${web}/readyz`, ca);
    assert.equal(ready.status, 200);
    assert.deepEqual(JSON.parse(ready.body), { ready: true, failing: [] });
    assert.equal((await fetchTls(`${web}/metrics`, ca)).status, 404);
  });

  it('metrics move with real traffic', async () => {
    const watcher = bob.spawn(['watch']);
    try {
      // Connected and signed in: the gauge says so.
      for (let tries = 0; tries < 200; tries += 1) {
        if (sample((await fetchPlain(`${metricsUrl}metrics`)).body, 'sisp_sessions') >= 1) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const image = join(IMAGES, 'flower2.jpg');
      const size = statSync(image).size;
      const posted = await alice.run(['post', 'flower', image]);
      assert.equal(posted.code, 0, posted.stderr);
      await watcher.waitFor((out) => out.includes('NEW_IMAGE flower alice'));
      assert.equal(
        (await bob.run(['download', 'alice/flower', '--out', join(bob.dir, 'f.jpg')])).code,
        0,
      );
      assert.equal((await bob.run(['cert', 'nobody'])).code, 1);
      const { status, body } = await fetchPlain(`${metricsUrl}metrics`);
      assert.equal(status, 200);
      assert.equal(sample(body, 'sisp_requests_total{type="post.begin",code="ok"}'), 1);
      assert.ok(sample(body, 'sisp_requests_total{type="cert.get",code="E_NOT_FOUND"}') >= 1, body);
      assert.ok(sample(body, 'sisp_bytes_total{direction="in"}') > size);
      assert.ok(sample(body, 'sisp_bytes_total{direction="out"}') > size);
      assert.ok(sample(body, 'sisp_notification_latency_seconds_count') >= 1);
      assert.ok(sample(body, 'sisp_store_seconds_count{method="putImage"}') >= 1);
      assert.ok(sample(body, 'sisp_blob_seconds_count{operation="commit"}') >= 1);
      assert.ok(sample(body, 'sisp_connections') >= 1, 'the watcher is connected');
      assert.ok(sample(body, 'sisp_sessions') >= 1);
      assert.ok(body.includes('sisp_uploads_in_flight 0'));
      assert.ok(body.includes('sisp_process_resident_memory_bytes'), 'process metrics');
    } finally {
      await watcher.stop();
    }
  });

  it('/readyz says which dependency does not answer, and recovers', async () => {
    const blobs = join(server.dataDir, 'blobs');
    renameSync(blobs, `${blobs}.away`);
    try {
      const down = await fetchPlain(`${metricsUrl}readyz`);
      assert.equal(down.status, 503);
      assert.deepEqual(JSON.parse(down.body), { ready: false, failing: ['blob store'] });
      assert.equal((await fetchPlain(`${metricsUrl}healthz`)).status, 200, 'still alive');
    } finally {
      renameSync(`${blobs}.away`, blobs);
    }
    assert.equal((await fetchPlain(`${metricsUrl}readyz`)).status, 200);
    assert.equal((await fetchPlain(`${metricsUrl}nothing`)).status, 404);
  });
});
