/**
 * Makes the sample CA and user certificate printed in docs/PROTOCOL.md section 12
 * (run by hand: `node --import tsx test/support/make-sample-certificate.ts`). ECDSA
 * signatures and serial numbers are random, so a new run gives new bytes; the docs
 * test checks whatever sample the document holds, not these exact bytes.
 */
import { createCertificateAuthority, issueUserCertificate } from '../../src/crypto/certificates.js';
import { ED25519_SPKI_PREFIX } from '../../src/crypto/der.js';
import { subtle, buf } from '../../src/crypto/webcrypto.js';
import { concatBytes, toHex } from '../../src/protocol/bytes.js';
import { SIGNING_KEY, X25519_ALICE } from '../protocol/doc-vectors.js';

const now = new Date('2026-12-01T00:00:00Z');
const ca = await createCertificateAuthority({ now });
const signingKey = await subtle().importKey(
  'spki',
  buf(concatBytes(ED25519_SPKI_PREFIX, SIGNING_KEY)),
  { name: 'Ed25519' },
  true,
  ['verify'],
);
const user = await issueUserCertificate(
  ca,
  { username: 'alice', signingKey, encryptionKey: X25519_ALICE.public },
  { now },
);
for (const [name, der] of [
  ['sample-ca', ca.certificate],
  ['sample-user-certificate', user],
] as const) {
  console.log(
    `\`\`\`hex sample=${name}\n${toHex(der)
      .replace(/(.{64})/g, '$1\n')
      .trim()}\n\`\`\`\n`,
  );
}
