/**
 * npm run bench:crypto — envelope seal/open throughput over a 256 MiB stream, beside
 * plain Node AES-256-GCM over the same bytes in 16 KiB pieces and `openssl speed`
 * measured in the same run; HPKE wrap and Ed25519 sign/verify rates. Each figure is
 * the median of several runs (min and max shown). Results go to bench/results/.
 */
import { execFileSync } from 'node:child_process';
import { createCipheriv, createSecretKey, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { webCryptoAes256Gcm, type AeadFactory } from '../src/crypto/aead.js';
import {
  EnvelopeDecryptor,
  EnvelopeEncryptor,
  generateContentKey,
} from '../src/crypto/envelope.js';
import { unwrapContentKey, wrapContentKey } from '../src/crypto/hpke.js';
import { nodeHpke } from '../src/node/hpke.js';
import {
  generateIdentity,
  publicIdentity,
  signEd25519,
  verifyEd25519,
} from '../src/crypto/keys.js';
import { envelopeContext } from '../src/crypto/manifest.js';
import { nodeAes256Gcm } from '../src/node/aead.js';

const MiB = 1024 * 1024;
const STREAM = 256 * MiB;
const PIECE = MiB;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

interface Figure {
  median: number;
  min: number;
  max: number;
}

function summarise(values: number[]): Figure {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    median: sorted[Math.floor(sorted.length / 2)] ?? 0,
    min: sorted[0] ?? 0,
    max: sorted[sorted.length - 1] ?? 0,
  };
}

async function repeat(runs: number, once: () => Promise<number>): Promise<Figure> {
  const values: number[] = [];
  for (let i = 0; i < runs; i++) values.push(await once());
  return summarise(values);
}

const source = randomBytes(PIECE);
const context = envelopeContext(new Uint8Array(16));

async function sealRate(aead: AeadFactory, keep: Uint8Array[] | undefined): Promise<number> {
  const encryptor = await EnvelopeEncryptor.create({ key: generateContentKey(), context, aead });
  const started = performance.now();
  keep?.push(encryptor.header());
  for (let done = 0; done < STREAM; done += PIECE) {
    const sealed = await encryptor.update(source);
    if (keep !== undefined) keep.push(...sealed);
  }
  keep?.push(await encryptor.finish());
  return STREAM / ((performance.now() - started) / 1000);
}

async function openRate(aead: AeadFactory): Promise<number> {
  const key = generateContentKey();
  const encryptor = await EnvelopeEncryptor.create({ key, context, aead: nodeAes256Gcm });
  // Ciphertext in 1 MiB pieces, as it would arrive from the network.
  const parts: Uint8Array[] = [encryptor.header()];
  for (let done = 0; done < STREAM; done += PIECE) parts.push(...(await encryptor.update(source)));
  parts.push(await encryptor.finish());
  const joined = Buffer.concat(parts);
  const decryptor = new EnvelopeDecryptor({ key, context, aead });
  const started = performance.now();
  for (let offset = 0; offset < joined.length; offset += PIECE)
    await decryptor.update(joined.subarray(offset, offset + PIECE));
  await decryptor.finish();
  return STREAM / ((performance.now() - started) / 1000);
}

/** The best plain use of Node's API: one KeyObject, one cipher per 16 KiB piece. */
function plainNodeRate(): number {
  const key = createSecretKey(randomBytes(32));
  const iv = randomBytes(12);
  const started = performance.now();
  for (let done = 0; done < STREAM; done += PIECE) {
    for (let offset = 0; offset < PIECE; offset += 16384) {
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.update(source.subarray(offset, offset + 16384));
      cipher.final();
      cipher.getAuthTag();
    }
  }
  return STREAM / ((performance.now() - started) / 1000);
}

function opensslRate(): number {
  const out = execFileSync(
    'openssl',
    ['speed', '-evp', 'aes-256-gcm', '-bytes', '16384', '-seconds', '3'],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  const line = out.split('\n').find((text) => /^aes-256-gcm\s/i.test(text.trim()));
  const match = /([\d.]+)k\s*$/.exec(line?.trim() ?? '');
  if (match?.[1] === undefined) throw new Error(`cannot parse openssl speed output:\n${out}`);
  return Number(match[1]) * 1000;
}

async function opsPerSecond(seconds: number, op: () => Promise<unknown>): Promise<number> {
  const deadline = performance.now() + seconds * 1000;
  let count = 0;
  const started = performance.now();
  while (performance.now() < deadline) {
    await op();
    count++;
  }
  return count / ((performance.now() - started) / 1000);
}

const mb = (rate: number) => (rate / 1e6).toFixed(0);
const fmt = (figure: Figure, unit: (value: number) => string) =>
  `${unit(figure.median)} (${unit(figure.min)}–${unit(figure.max)})`;

async function main(): Promise<void> {
  console.log(
    `sisp crypto benchmark: ${STREAM / MiB} MiB stream, ${RUNS} runs each, median (min–max)`,
  );
  const openssl = summarise(Array.from({ length: RUNS }, () => opensslRate()));
  const plain = summarise(Array.from({ length: RUNS }, () => plainNodeRate()));
  const seal = await repeat(RUNS, () => sealRate(nodeAes256Gcm, undefined));
  const open = await repeat(RUNS, () => openRate(nodeAes256Gcm));
  const sealWeb = await repeat(RUNS, () => sealRate(webCryptoAes256Gcm, undefined));
  const openWeb = await repeat(RUNS, () => openRate(webCryptoAes256Gcm));

  const alice = await generateIdentity();
  const bob = await publicIdentity(await generateIdentity());
  const message = randomBytes(300);
  const signature = await signEd25519(alice.signing.privateKey, message);
  const alicePublic = (await publicIdentity(alice)).signingKey;
  const key = generateContentKey();
  const id = new Uint8Array(16);
  const wrap = await repeat(RUNS, () =>
    opsPerSecond(1, () => wrapContentKey(key, bob.encryptionKey, id, 'bob')),
  );
  const wrapNode = await repeat(RUNS, () =>
    opsPerSecond(1, () => wrapContentKey(key, bob.encryptionKey, id, 'bob', { suite: nodeHpke })),
  );
  const bobKeys = await generateIdentity();
  const wrapped = await wrapContentKey(
    key,
    (await publicIdentity(bobKeys)).encryptionKey,
    id,
    'bob',
  );
  const bobPrivate = bobKeys.encryption.privateKey;
  const unwrap = await repeat(RUNS, () =>
    opsPerSecond(1, () => unwrapContentKey(wrapped, bobPrivate, id, 'bob')),
  );
  const unwrapNode = await repeat(RUNS, () =>
    opsPerSecond(1, () => unwrapContentKey(wrapped, bobPrivate, id, 'bob', { suite: nodeHpke })),
  );
  const sign = await repeat(RUNS, () =>
    opsPerSecond(1, () => signEd25519(alice.signing.privateKey, message)),
  );
  const verify = await repeat(RUNS, () =>
    opsPerSecond(1, () => verifyEd25519(alicePublic, signature, message)),
  );

  const rows: [string, string][] = [
    ['openssl speed aes-256-gcm, 16 KiB blocks (MB/s)', fmt(openssl, mb)],
    ['plain Node AES-256-GCM, 16 KiB pieces (MB/s)', fmt(plain, mb)],
    ['envelope seal, Node backend (MB/s)', fmt(seal, mb)],
    ['envelope open, Node backend (MB/s)', fmt(open, mb)],
    ['envelope seal, WebCrypto backend (MB/s)', fmt(sealWeb, mb)],
    ['envelope open, WebCrypto backend (MB/s)', fmt(openWeb, mb)],
    ['seal / plain Node (aim ≥ 0.8)', (seal.median / plain.median).toFixed(2)],
    ['open / plain Node (aim ≥ 0.8)', (open.median / plain.median).toFixed(2)],
    ['seal / openssl (aim ≥ 0.3)', (seal.median / openssl.median).toFixed(2)],
    ['open / openssl (aim ≥ 0.3)', (open.median / openssl.median).toFixed(2)],
    ['HPKE wrap, @hpke/core on WebCrypto (ops/s)', fmt(wrap, (v) => v.toFixed(0))],
    ['HPKE wrap, Node OpenSSL (ops/s)', fmt(wrapNode, (v) => v.toFixed(0))],
    ['HPKE unwrap, @hpke/core on WebCrypto (ops/s)', fmt(unwrap, (v) => v.toFixed(0))],
    ['HPKE unwrap, Node OpenSSL (ops/s)', fmt(unwrapNode, (v) => v.toFixed(0))],
    ['Ed25519 sign (ops/s)', fmt(sign, (v) => v.toFixed(0))],
    ['Ed25519 verify (ops/s)', fmt(verify, (v) => v.toFixed(0))],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  for (const [label, value] of rows) console.log(`${label.padEnd(width)}  ${value}`);

  const dir = join(dirname(fileURLToPath(import.meta.url)), 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `crypto-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        node: process.version,
        runs: RUNS,
        openssl,
        plain,
        seal,
        open,
        sealWeb,
        openWeb,
        wrap,
        wrapNode,
        unwrap,
        unwrapNode,
        sign,
        verify,
      },
      null,
      2,
    ),
  );
  console.log(`results: ${file}`);
}

await main();
