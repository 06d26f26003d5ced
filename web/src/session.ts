/**
 * The page's side of the client core: signing in with keys kept in IndexedDB,
 * registering, and errors in words. The server is the page's own origin.
 */
import { SispClient } from '../../src/core/client.js';
import { WEB_CRYPTO } from '../../src/core/platform.js';
import { webSocketConnector } from '../../src/core/websocket-transport.js';
import { IndexedDbStorage } from '../../src/web/indexeddb-storage.js';
import { isSispError } from '../../src/protocol/errors.js';

export const serverUrl = (): string => `wss://${location.host}/`;

/** The sisp CA: the one stored at registration, else the server's (first use). */
async function caPem(storage: IndexedDbStorage): Promise<string> {
  const stored = await storage.readCa();
  if (stored !== undefined) return stored;
  const response = await fetch('/ca.pem', { cache: 'no-store', credentials: 'omit' });
  if (!response.ok) throw new Error('the server did not give its CA certificate');
  return response.text();
}

async function options(storage: IndexedDbStorage) {
  return {
    storage,
    connector: webSocketConnector,
    server: serverUrl(),
    caPem: await caPem(storage),
    crypto: WEB_CRYPTO,
    agent: 'sisp-web/0.1',
  };
}

/** Signed in with the keys this browser holds, or undefined when it holds none. */
export async function signIn(storage: IndexedDbStorage): Promise<SispClient | undefined> {
  if (!(await storage.hasIdentity())) return undefined;
  return SispClient.login(await options(storage));
}

/** Makes keys here, registers them, then signs in with them. */
export async function register(
  storage: IndexedDbStorage,
  username: string,
  passphrase: string,
): Promise<SispClient> {
  const client = await SispClient.connect(await options(storage));
  try {
    await client.register(username, passphrase === '' ? undefined : passphrase);
  } finally {
    client.close();
  }
  return SispClient.login(await options(storage));
}

const WORDS: Record<string, string> = {
  E_TAMPERED: 'It failed verification: it was tampered with, or is not what its owner signed.',
  E_FORBIDDEN: 'You are not allowed to do that.',
  E_NOT_FOUND: 'Not found, or not shared with you.',
  E_TOO_LARGE: 'It is too large.',
  E_QUOTA: 'Your storage allowance would be exceeded.',
  E_UNAVAILABLE: 'The server cannot be reached.',
  E_KEY_CHANGED:
    "WARNING: this user's key is not the one first seen for them; their images are hidden. Do not trust what comes from them until you have compared fingerprints (then accept the new key under Keys you have pinned).",
  E_NAME_TAKEN: 'That username is taken.',
  E_INVALID_NAME: 'That name is not allowed.',
  E_CANCELLED: 'Cancelled.',
  E_PASSPHRASE: 'The passphrase is wrong or missing, or the file is damaged.',
  E_EXISTS: 'That already exists.',
};

/** An error in words for a person, never a stack trace. */
export function inWords(error: unknown): string {
  if (isSispError(error)) {
    const words = WORDS[error.code];
    return words === undefined ? error.message : `${words} (${error.message})`;
  }
  return 'Something went wrong. Try again, or reload the page.';
}
