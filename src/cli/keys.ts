/**
 * Keys and trust: who you are here (`whoami`), whose keys you have pinned (`pins`),
 * accepting a changed key after checking it out of band (`pins accept`), and the
 * passphrase over your own keys (`passphrase`). Only `pins accept` needs the server.
 */
import { fromPem } from '../crypto/pem.js';
import {
  certificateFingerprint,
  keyFingerprint,
  readableFingerprint,
} from '../crypto/fingerprint.js';
import { sispError } from '../protocol/errors.js';
import type { CliContext } from './context.js';
import { login, readCaFile } from './context.js';
import { jsonLine, type Output } from './output.js';
import { askPassphrase, isInteractive, type Terminal } from './passphrase.js';

async function caFingerprint(context: CliContext): Promise<string | undefined> {
  const pem = (await readCaFile(context)) ?? (await context.home.readCa());
  if (pem === undefined) return undefined;
  try {
    return readableFingerprint(await certificateFingerprint(fromPem(pem)));
  } catch {
    throw sispError('E_CERTIFICATE', 'the CA certificate is not a PEM certificate');
  }
}

/** Offline: everything comes from the home folder, and no passphrase is needed. */
export async function commandWhoami(
  context: CliContext,
  output: Output,
  options: { json?: boolean },
): Promise<void> {
  const home = context.home;
  await home.checkPermissions();
  const info = await home.identityInfo();
  const fingerprint = readableFingerprint(
    await keyFingerprint(info.signingKey, info.encryptionKey),
  );
  const server = context.server ?? (await home.readConfig())?.server;
  const ca = await caFingerprint(context);
  if (options.json === true) {
    output.out.write(
      jsonLine({
        username: info.username,
        server: server ?? null,
        fingerprint,
        caFingerprint: ca ?? null,
        home: home.dir,
        keysEncrypted: info.encrypted,
      }),
    );
    return;
  }
  output.out.write(
    `username: ${info.username}\nserver: ${server ?? '(none)'}\nkey fingerprint: ${fingerprint}\n` +
      `CA fingerprint: ${ca ?? '(none)'}\nhome: ${home.dir}\n` +
      `keys: ${info.encrypted ? 'protected by a passphrase' : 'not protected by a passphrase'}\n`,
  );
}

export async function commandPins(
  context: CliContext,
  output: Output,
  options: { json?: boolean },
): Promise<void> {
  await context.home.checkPermissions();
  const pins = await context.home.listPins();
  if (options.json === true) {
    output.out.write(
      jsonLine({
        pins: pins.map(([username, pin]) => ({
          username,
          fingerprint: pin.fingerprint,
          firstSeen: pin.firstSeen,
        })),
      }),
    );
    return;
  }
  if (pins.length === 0) {
    output.out.write('no keys pinned yet\n');
    return;
  }
  const width = Math.max(...pins.map(([username]) => username.length));
  for (const [username, pin] of pins)
    output.out.write(`${username.padEnd(width)}  ${pin.fingerprint}  since ${pin.firstSeen}\n`);
}

export async function commandPinsAccept(
  context: CliContext,
  output: Output,
  username: string,
  fingerprint: string,
  options: { json?: boolean },
): Promise<void> {
  const client = await login(context);
  try {
    const accepted = await client.acceptKey(username, fingerprint);
    if (options.json === true) {
      output.out.write(
        jsonLine({
          username,
          fingerprint: accepted.fingerprint,
          previous: accepted.previous ?? null,
        }),
      );
      return;
    }
    output.out.write(
      accepted.previous === accepted.fingerprint
        ? `${username}: that key was already pinned\n`
        : `${username}: now pinned to ${accepted.fingerprint}` +
            (accepted.previous === undefined ? '\n' : ` (was ${accepted.previous})\n`),
    );
  } finally {
    client.close();
  }
}

/**
 * The new passphrase: SISP_NEW_PASSPHRASE, none with --remove, or asked twice on
 * the terminal.
 */
async function newPassphrase(
  terminal: Terminal,
  fromEnv: string | undefined,
  remove: boolean,
): Promise<string | undefined> {
  if (remove) return undefined;
  if (fromEnv !== undefined) return fromEnv;
  if (!isInteractive(terminal))
    throw sispError(
      'E_PASSPHRASE',
      'no new passphrase: set SISP_NEW_PASSPHRASE, run on a terminal, or use --remove',
    );
  const first = await askPassphrase(terminal, 'new passphrase (empty for none): ');
  if (first === '') return undefined;
  if ((await askPassphrase(terminal, 'the same passphrase again: ')) !== first)
    throw sispError('E_PASSPHRASE', 'the two passphrases differ; nothing was changed');
  return first;
}

export async function commandPassphrase(
  context: CliContext,
  output: Output,
  terminal: Terminal,
  options: { remove?: boolean; newPassphrase?: string },
): Promise<void> {
  const home = context.home;
  await home.checkPermissions();
  const locked = (await home.identityInfo()).encrypted;
  const current =
    !locked || context.passphrase !== undefined
      ? context.passphrase
      : await askPassphrase(terminal, `current passphrase for the keys in ${home.dir}: `);
  // Opened before asking for a new one: a wrong current passphrase fails here.
  const stored = await home.loadIdentity(current);
  const next = await newPassphrase(terminal, options.newPassphrase, options.remove === true);
  await home.changePassphrase(stored, next);
  output.out.write(
    next === undefined
      ? `the keys in ${home.dir} are now stored without a passphrase\n`
      : `the keys in ${home.dir} are now protected by the new passphrase\n`,
  );
  if (next === undefined)
    output.err.write('warning: anyone who can read the home folder can now use the keys\n');
}
