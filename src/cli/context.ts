/**
 * What every CLI command starts from: the home folder, and the server and CA given
 * by flag or environment; turned into the core's options with the Node adapters.
 */
import { readFile } from 'node:fs/promises';
import { SispClient, type ClientOptions } from '../core/client.js';
import { Home } from '../client/home.js';
import { NODE_CRYPTO } from '../client/platform.js';
import { nodeConnector } from '../client/ws-transport.js';
import { isSispError, sispError } from '../protocol/errors.js';
import { askPassphrase } from './passphrase.js';
import { VERSION } from '../version.js';

export interface CliContext {
  readonly home: Home;
  readonly server?: string;
  readonly caFile?: string;
  readonly passphrase?: string;
}

export const AGENT = `sisp-cli/${VERSION}`;

/** The CA certificate given by --ca (or SISP_CA), if any. */
export async function readCaFile(context: CliContext): Promise<string | undefined> {
  if (context.caFile === undefined) return undefined;
  try {
    return await readFile(context.caFile, 'utf8');
  } catch {
    throw sispError('E_BAD_REQUEST', `cannot read the CA certificate ${context.caFile}`);
  }
}

export async function coreOptions(context: CliContext): Promise<ClientOptions> {
  await context.home.checkPermissions();
  const caPem = await readCaFile(context);
  return {
    storage: context.home,
    connector: nodeConnector,
    crypto: NODE_CRYPTO,
    agent: AGENT,
    ...(context.server === undefined ? {} : { server: context.server }),
    ...(caPem === undefined ? {} : { caPem }),
    ...(context.passphrase === undefined ? {} : { passphrase: context.passphrase }),
  };
}

/** Passphrases asked for on the terminal, once per run. */
const asked = new WeakMap<CliContext, string>();

/** Connected and signed in with the home's keys (asking for their passphrase on a terminal). */
export async function login(context: CliContext): Promise<SispClient> {
  const options = await coreOptions(context);
  const known = options.passphrase ?? asked.get(context);
  try {
    return await SispClient.login(
      known === undefined ? options : { ...options, passphrase: known },
    );
  } catch (error) {
    // Tried first without asking, so the key file is read once when no passphrase is
    // needed (a reconnecting `sisp watch` signs in again and again); a passphrase-
    // protected one fails at once (no scrypt without a passphrase), before any connection.
    if (known !== undefined || !isSispError(error, 'E_PASSPHRASE')) throw error;
    if (!(await context.home.isLocked())) throw error;
  }
  const passphrase = await askPassphrase(
    { input: process.stdin, output: process.stderr },
    `passphrase for the keys in ${context.home.dir}: `,
  );
  asked.set(context, passphrase);
  return SispClient.login({ ...options, passphrase });
}

/** Connected, not signed in (to register). */
export async function connect(context: CliContext): Promise<SispClient> {
  return SispClient.connect(await coreOptions(context));
}
