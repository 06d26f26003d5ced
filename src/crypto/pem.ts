/**
 * PEM armour (RFC 7468) for certificates and keys. Its own module so that code that
 * only reads or writes a PEM file (the CA in a home, an identity file) does not load
 * the X.509 parser with it.
 */
import { sispError } from '../protocol/errors.js';

export function toPem(der: Uint8Array, label = 'CERTIFICATE'): string {
  let binary = '';
  for (const byte of der) binary += String.fromCharCode(byte);
  const base64 = btoa(binary)
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${base64}\n-----END ${label}-----\n`;
}

export function fromPem(pem: string, label = 'CERTIFICATE'): Uint8Array {
  const match = new RegExp(
    `-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+)-----END ${label}-----`,
  ).exec(pem);
  if (match?.[1] === undefined) throw sispError('E_CERTIFICATE', 'not a PEM certificate');
  const binary = atob(match[1].replace(/\s+/g, ''));
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}
