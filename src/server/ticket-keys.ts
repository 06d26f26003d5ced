/**
 * TLS session ticket keys, kept in the data directory so that clients resume their
 * TLS sessions across a restart: in a reconnect storm each client then skips the
 * certificate checks and the server the handshake's signature. TLS 1.3 resumes with
 * a fresh (EC)DHE exchange (psk_dhe_ke, the only mode Node's clients offer), so the
 * keys never decrypt recorded traffic; a ticket is accepted only within the server's
 * session timeout (Node's default, 5 minutes), and the keys are renewed at start once
 * a day old. Same secrecy as tls-key.pem beside them: 0600, never logged.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Node's format: 16 bytes of key name, 16 of HMAC key, 16 of AES key. */
const TICKET_KEYS_LENGTH = 48;
const RENEW_AFTER_MS = 24 * 60 * 60 * 1000;
export const TICKET_KEYS_FILE = 'tls-ticket-keys';

export async function loadOrCreateTicketKeys(dataDir: string, now = Date.now()): Promise<Buffer> {
  const path = join(dataDir, TICKET_KEYS_FILE);
  const existing = await Promise.all([stat(path), readFile(path)]).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  });
  if (existing !== undefined) {
    const [stats, keys] = existing;
    if (keys.length === TICKET_KEYS_LENGTH && now - stats.mtimeMs < RENEW_AFTER_MS) return keys;
  }
  const keys = randomBytes(TICKET_KEYS_LENGTH);
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temporary, keys, { mode: 0o600, flag: 'wx' });
  await rename(temporary, path);
  return keys;
}
