/**
 * Debian's Chromium for the browser tests and benchmarks, through playwright-core
 * (never a downloaded browser), with the flags this machine needs and trust in
 * exactly one TLS key: the server's own, as a pinned key, never a blanket ignore.
 * Playwright gives every launch a fresh temporary profile.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** base64 SHA-256 of a certificate's public key: what Chromium is told to trust. */
export function spkiHash(certificatePem: string): string {
  const spki = new X509Certificate(certificatePem).publicKey.export({
    type: 'spki',
    format: 'der',
  });
  return createHash('sha256').update(spki).digest('base64');
}

export function launchChromium(trustedTlsPem: string, extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      `--ignore-certificate-errors-spki-list=${spkiHash(trustedTlsPem)}`,
      ...extraArgs,
    ],
  });
}
