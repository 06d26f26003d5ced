/** RFC 9180 A.1.1 (X25519, HKDF-SHA256, AES-128-GCM, base mode), as kept in test/vectors. */
import { readTestJson } from './files.js';

export interface RfcHpkeVector {
  info: string;
  skRm: string;
  pkRm: string;
  skEm: string;
  enc: string;
  encryptions: { aad: string; ciphertext: string; plaintext: string }[];
}

export function readRfcHpkeVector(): Promise<RfcHpkeVector> {
  return readTestJson<RfcHpkeVector>('test/vectors/hpke-rfc9180-a1-1.json');
}
