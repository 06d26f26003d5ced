/**
 * Who may read an image, decided and signed by its owner: a grant gives one
 * recipient one wrapped content key (named by its digest, so the server cannot swap
 * in another), and a withdrawal takes a recipient's access back. The server stores
 * and enforces both; a recipient checks the grant behind a key it is handed, so the
 * server cannot add a reader undetected.
 */
import { concatBytes } from '../protocol/bytes.js';
import { encodeDeterministic } from '../protocol/cbor.js';
import { sha256Digest } from './hash.js';
import { signPayload, verifyPayload } from './signatures.js';

export interface GrantFields {
  readonly image: Uint8Array;
  readonly owner: string;
  readonly recipient: string;
  /** The wrapped content key as HPKE gave it. */
  readonly enc: Uint8Array;
  readonly ct: Uint8Array;
}

export interface WithdrawalFields {
  readonly image: Uint8Array;
  readonly owner: string;
  readonly recipient: string;
  /** When the owner withdrew it, ms since the epoch. */
  readonly withdrawn: number;
}

/** The grant's signed payload: CBOR {v, image, owner, recipient, key: SHA-256(enc || ct)}. */
export async function grantPayload(fields: GrantFields): Promise<Uint8Array> {
  return encodeDeterministic({
    v: 1,
    image: fields.image,
    owner: fields.owner,
    recipient: fields.recipient,
    key: await sha256Digest(concatBytes(fields.enc, fields.ct)),
  });
}

export function withdrawalPayload(fields: WithdrawalFields): Uint8Array {
  return encodeDeterministic({
    v: 1,
    image: fields.image,
    owner: fields.owner,
    recipient: fields.recipient,
    withdrawn: fields.withdrawn,
  });
}

export async function signGrant(privateKey: CryptoKey, fields: GrantFields): Promise<Uint8Array> {
  return signPayload('grant', privateKey, await grantPayload(fields));
}

export async function verifyGrant(
  ownerSigningKey: Uint8Array,
  signature: Uint8Array,
  fields: GrantFields,
): Promise<boolean> {
  return verifyPayload('grant', ownerSigningKey, signature, await grantPayload(fields));
}

export function signWithdrawal(
  privateKey: CryptoKey,
  fields: WithdrawalFields,
): Promise<Uint8Array> {
  return signPayload('withdraw', privateKey, withdrawalPayload(fields));
}

export function verifyWithdrawal(
  ownerSigningKey: Uint8Array,
  signature: Uint8Array,
  fields: WithdrawalFields,
): Promise<boolean> {
  return verifyPayload('withdraw', ownerSigningKey, signature, withdrawalPayload(fields));
}
