/**
 * One identity everywhere: `sisp export FILE` writes this home's identity (server,
 * CA, keys sealed under a passphrase) to an identity file; `sisp import FILE` makes
 * a home from one, such as a file exported by the browser app. The file is useless
 * without its passphrase, and an import opens it before writing anything.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fromPem } from '../crypto/pem.js';
import { certificateFingerprint, readableFingerprint } from '../crypto/fingerprint.js';
import { decodeIdentityFile, encodeIdentityFile } from '../crypto/identity-file.js';
import { openKeystore, sealKeystore } from '../crypto/keystore.js';
import { sispError } from '../protocol/errors.js';
import { writeAtomic } from '../client/home.js';
import type { CliContext } from './context.js';
import type { Output } from './output.js';
import { askPassphrase, isInteractive, type Terminal } from './passphrase.js';

async function exportPassphrase(terminal: Terminal, fromEnv: string | undefined): Promise<string> {
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (!isInteractive(terminal))
    throw sispError(
      'E_PASSPHRASE',
      'an identity file is sealed under a passphrase: set SISP_NEW_PASSPHRASE or run on a terminal',
    );
  const first = await askPassphrase(terminal, 'passphrase for the identity file: ');
  if (first === '') throw sispError('E_PASSPHRASE', 'an identity file needs a passphrase');
  if ((await askPassphrase(terminal, 'the same passphrase again: ')) !== first)
    throw sispError('E_PASSPHRASE', 'the two passphrases differ; nothing was written');
  return first;
}

/** The key file sealed: as stored when it has a passphrase, else sealed under a new one. */
async function sealedKeys(
  context: CliContext,
  terminal: Terminal,
  newPassphrase: string | undefined,
): Promise<Uint8Array> {
  const home = context.home;
  if ((await home.identityInfo()).encrypted) return home.readKeyFile();
  const stored = await home.loadIdentity();
  const passphrase = await exportPassphrase(terminal, newPassphrase);
  return sealKeystore(stored.username, stored.identity, { passphrase });
}

export async function commandExport(
  context: CliContext,
  output: Output,
  terminal: Terminal,
  path: string,
  options: { force?: boolean; newPassphrase?: string },
): Promise<void> {
  const home = context.home;
  await home.checkPermissions();
  const config = await home.readConfig();
  const ca = await home.readCa();
  if (config === undefined || ca === undefined)
    throw sispError('E_AUTH', 'this home has no server');
  const target = resolve(path);
  if (options.force !== true && existsSync(target))
    throw sispError('E_EXISTS', `${target} exists; choose another name or add --force`);
  const keys = await sealedKeys(context, terminal, options.newPassphrase);
  await writeAtomic(target, encodeIdentityFile({ server: config.server, ca, keys }), 0o600);
  const { username } = await home.identityInfo();
  output.out.write(`the identity of ${username} on ${config.server} is in ${target}\n`);
  output.err.write(
    'keep it safe: with its passphrase it is you (sisp import, or the browser app)\n',
  );
}

export async function commandImport(
  context: CliContext,
  output: Output,
  terminal: Terminal,
  path: string,
): Promise<void> {
  const home = context.home;
  if (await home.hasIdentity())
    throw sispError('E_EXISTS', `${home.dir} already has keys; import into another --home`);
  const file = decodeIdentityFile(new Uint8Array(await readFile(path)));
  let caFingerprint: string;
  try {
    caFingerprint = readableFingerprint(await certificateFingerprint(fromPem(file.ca)));
  } catch (cause) {
    throw sispError('E_CERTIFICATE', 'the identity file holds no valid CA certificate', { cause });
  }
  const passphrase =
    context.passphrase ??
    (isInteractive(terminal)
      ? await askPassphrase(terminal, `passphrase for the identity of ${file.username}: `)
      : undefined);
  // Opened before anything is written: a wrong passphrase leaves the home as it was.
  const opened = await openKeystore(file.keys, passphrase);
  await home.ensure();
  await home.saveIdentity(opened, passphrase);
  await home.writeCa(file.ca);
  await home.writeConfig({ server: file.server, username: opened.username });
  output.out.write(
    `imported ${opened.username} on ${file.server} into ${home.dir}\nCA fingerprint: ${caFingerprint}\n`,
  );
}
