/** TLS ticket keys in the data directory: made once, kept while fresh, renewed when a day old or damaged. */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadOrCreateTicketKeys, TICKET_KEYS_FILE } from '../../src/server/ticket-keys.js';

describe('TLS ticket keys', () => {
  it('are created 0600, kept while fresh, renewed when a day old or not 48 bytes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sisp-tickets-'));
    const path = join(dir, TICKET_KEYS_FILE);
    try {
      const first = await loadOrCreateTicketKeys(dir);
      assert.equal(first.length, 48);
      assert.equal(statSync(path).mode & 0o777, 0o600);
      assert.deepEqual(await loadOrCreateTicketKeys(dir), first, 'kept while fresh');
      const dayOld = (Date.now() - 25 * 60 * 60 * 1000) / 1000;
      utimesSync(path, dayOld, dayOld);
      const renewed = await loadOrCreateTicketKeys(dir);
      assert.notDeepEqual(renewed, first);
      assert.deepEqual(readFileSync(path), renewed);
      writeFileSync(path, new Uint8Array(47));
      const repaired = await loadOrCreateTicketKeys(dir);
      assert.equal(repaired.length, 48);
      assert.notDeepEqual(repaired, renewed);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
