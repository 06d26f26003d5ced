/**
 * Which TLS certificates the CLI accepts from a sisp server's listener: one issued
 * by the sisp CA it pinned (the default server), or one an operator installed with
 * `sisp serve --tls-cert` from a CA the system trusts (Node's roots, plus
 * NODE_EXTRA_CA_CERTS, which is where mkcert's root goes). TLS here only carries
 * the channel: the server's identity is the welcome's, checked against the pinned
 * sisp CA on every connection, and every image, grant and certificate is verified
 * end to end against that CA (docs/SECURITY.md, "TLS for browsers").
 */
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';

let extra: readonly string[] | undefined;

/** NODE_EXTRA_CA_CERTS, read once (Node drops it when `ca` is given explicitly). */
function extraCertificates(): readonly string[] {
  if (extra !== undefined) return extra;
  const file = process.env.NODE_EXTRA_CA_CERTS;
  extra = [];
  if (file !== undefined && file !== '') {
    try {
      extra = [readFileSync(file, 'utf8')];
    } catch {
      // Node itself only warns about an unreadable file; so do we, by ignoring it.
    }
  }
  return extra;
}

export function listenerTrust(sispCaPem: string): string[] {
  return [sispCaPem, ...rootCertificates, ...extraCertificates()];
}
