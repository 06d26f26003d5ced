/**
 * The server's keys and certificates in the data directory, made on first start:
 * the CA (ECDSA P-256), the TLS key and certificate, and the X25519 key that public
 * images' content keys are wrapped to. Private keys are written 0600. The CA key may
 * live outside the data directory (SISP_CA_KEY_FILE), so that backups of the data
 * hold nothing that can issue certificates.
 */
import { KeyObject, randomBytes as nodeRandomBytes, sign as nodeSign } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { dirname, join } from 'node:path';
import {
  createCertificateAuthority,
  generateP256KeyPair,
  fromPem,
  issueServerCertificate,
  toPem,
  verifyCaCertificate,
  type CertificateAuthority,
} from '../crypto/certificates.js';
import { certificateFingerprint, readableFingerprint } from '../crypto/fingerprint.js';
import { exportPkcs8, exportRawPublic } from '../crypto/keys.js';
import { buf, subtle } from '../crypto/webcrypto.js';

export interface ServerPki {
  readonly ca: CertificateAuthority;
  readonly caPem: string;
  readonly caFingerprint: Uint8Array;
  readonly caFingerprintText: string;
  readonly tlsKeyPem: string;
  readonly tlsCertPem: string;
  readonly serverCertificate: Uint8Array;
  readonly wrapKey: CryptoKey;
  /** The wrap key's public half (raw X25519), as the server certificate carries it. */
  readonly wrapPublicKey: Uint8Array;
}

async function writeSecret(path: string, contents: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${nodeRandomBytes(6).toString('hex')}.tmp`;
  await writeFile(temporary, contents, { mode: 0o600, flag: 'wx' });
  await rename(temporary, path);
}

async function writePublic(path: string, contents: string): Promise<void> {
  const temporary = `${path}.${nodeRandomBytes(6).toString('hex')}.tmp`;
  await writeFile(temporary, contents, { mode: 0o644, flag: 'wx' });
  // Public whatever the umask (the server runs with 077): clients are given this file.
  await chmod(temporary, 0o644);
  await rename(temporary, path);
}

async function importPrivatePem(
  pem: string,
  algorithm: EcKeyImportParams | Algorithm,
  usages: KeyUsage[],
): Promise<CryptoKey> {
  return subtle().importKey('pkcs8', buf(fromPem(pem, 'PRIVATE KEY')), algorithm, true, usages);
}

async function loadOrCreateCa(dataDir: string, caKeyFile: string): Promise<CertificateAuthority> {
  const certPath = join(dataDir, 'ca.pem');
  if (existsSync(certPath)) {
    const certificate = fromPem(await readFile(certPath, 'utf8'));
    await verifyCaCertificate(certificate);
    const privateKey = await importPrivatePem(
      await readFile(caKeyFile, 'utf8'),
      { name: 'ECDSA', namedCurve: 'P-256' },
      ['sign'],
    );
    return { certificate, privateKey };
  }
  const ca = await createCertificateAuthority();
  await writeSecret(caKeyFile, toPem(await exportPkcs8(ca.privateKey), 'PRIVATE KEY'));
  await writePublic(certPath, toPem(ca.certificate));
  return ca;
}

/**
 * The CA signing through Node's OpenSSL directly: ~40 µs a certificate against ~120 µs
 * for a WebCrypto job (bench/README, registrations). Same key, same signature scheme.
 */
function withOpenSslSigner(ca: CertificateAuthority): CertificateAuthority {
  const key = KeyObject.from(ca.privateKey);
  return {
    ...ca,
    sign: (data) => new Uint8Array(nodeSign('sha256', data, { key, dsaEncoding: 'ieee-p1363' })),
  };
}

async function loadOrCreateKey(
  path: string,
  generate: () => Promise<CryptoKeyPair>,
  algorithm: EcKeyImportParams | Algorithm,
  usages: KeyUsage[],
): Promise<{ privateKey: CryptoKey; pem: string }> {
  if (existsSync(path)) {
    const pem = await readFile(path, 'utf8');
    return { privateKey: await importPrivatePem(pem, algorithm, usages), pem };
  }
  const pair = await generate();
  const pem = toPem(await exportPkcs8(pair.privateKey), 'PRIVATE KEY');
  await writeSecret(path, pem);
  return { privateKey: pair.privateKey, pem };
}

/** WebCrypto has no "public from private"; JWK export carries both halves. */
async function publicFromPrivate(
  privateKey: CryptoKey,
  algorithm: EcKeyImportParams | Algorithm,
): Promise<CryptoKey> {
  const { d: _d, key_ops: _ops, ...jwk } = await subtle().exportKey('jwk', privateKey);
  const usages: KeyUsage[] = algorithm.name === 'ECDSA' ? ['verify'] : [];
  return subtle().importKey('jwk', { ...jwk, key_ops: usages }, algorithm, true, usages);
}

export async function loadOrCreatePki(
  dataDir: string,
  options: { host: string; tlsNames: readonly string[]; caKeyFile?: string },
): Promise<ServerPki> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  // Private whatever it was made with: the database and blobs live here.
  await chmod(dataDir, 0o700);
  const caKeyFile = options.caKeyFile ?? join(dataDir, 'ca-key.pem');
  const ca = withOpenSslSigner(await loadOrCreateCa(dataDir, caKeyFile));
  const p256 = { name: 'ECDSA', namedCurve: 'P-256' };
  const tls = await loadOrCreateKey(join(dataDir, 'tls-key.pem'), generateP256KeyPair, p256, [
    'sign',
  ]);
  const wrap = await loadOrCreateKey(
    join(dataDir, 'wrap-key.pem'),
    async () =>
      (await subtle().generateKey({ name: 'X25519' }, true, ['deriveBits'])) as CryptoKeyPair,
    { name: 'X25519' },
    ['deriveBits'],
  );
  // The TLS certificate is reissued on every start, so it always names the current
  // host; clients pin the CA, not this certificate.
  const names = new Set(['localhost', ...options.tlsNames]);
  const ips = new Set(['127.0.0.1', '::1']);
  for (const name of [options.host, ...options.tlsNames]) {
    if (isIP(name) !== 0) ips.add(name);
    else if (name !== '') names.add(name);
  }
  ips.delete('0.0.0.0');
  ips.delete('::');
  const wrapPublicKey = await exportRawPublic(
    await publicFromPrivate(wrap.privateKey, { name: 'X25519' }),
  );
  const serverCertificate = await issueServerCertificate(ca, {
    tlsPublicKey: await publicFromPrivate(tls.privateKey, p256),
    encryptionKey: wrapPublicKey,
    hostnames: [...names],
    ips: [...ips],
  });
  const tlsCertPem = toPem(serverCertificate);
  await writePublic(join(dataDir, 'tls.pem'), tlsCertPem);
  const caFingerprint = await certificateFingerprint(ca.certificate);
  return {
    ca,
    caPem: toPem(ca.certificate),
    caFingerprint,
    caFingerprintText: readableFingerprint(caFingerprint),
    tlsKeyPem: tls.pem,
    tlsCertPem,
    serverCertificate,
    wrapKey: wrap.privateKey,
    wrapPublicKey,
  };
}
