/** Handshake: hello, register, auth. Before it completes nothing else is allowed. */
import { diffieHellman, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { issueUserCertificate } from '../../crypto/certificates.js';
import { x25519PublicFromRaw } from '../../node/hpke.js';
import { authPayload, registerPayload, verifyPayload } from '../../crypto/signatures.js';
import { equalBytes } from '../../protocol/bytes.js';
import { sispError } from '../../protocol/errors.js';
import { PROTOCOL_VERSION, SUPPORTED_VERSIONS } from '../../protocol/messages.js';
import type { HandshakeContext, RequestMessage } from '../request.js';

export async function hello(
  context: HandshakeContext,
  message: RequestMessage<'hello'>,
): Promise<void> {
  if (context.state !== 'hello') throw sispError('E_BAD_REQUEST', 'hello was already received');
  if (!message.body.versions.includes(PROTOCOL_VERSION)) {
    throw sispError('E_VERSION', `this server speaks SISP/${SUPPORTED_VERSIONS.join(', ')}`);
  }
  const { pki, config } = context.services;
  context.welcomed();
  await context.send('welcome', {
    version: PROTOCOL_VERSION,
    nonce: context.session.nonce,
    caFingerprint: pki.caFingerprint,
    serverCertificate: pki.serverCertificate,
    maxFrame: config.limits.maxFrame,
    maxImage: config.limits.maxImage,
  });
}

function requireWelcomed(context: HandshakeContext): void {
  if (context.state === 'hello') throw sispError('E_BAD_REQUEST', 'send hello first');
}

/** The certificate for a registration: a new one, or the existing one for the same keys. */
async function certificateFor(
  context: HandshakeContext,
  body: RequestMessage<'register'>['body'],
): Promise<{ certificate: Uint8Array; again: boolean }> {
  const { store, pki, log } = context.services;
  const { username, signingKey, encryptionKey } = body;
  const sameKeys = (user: { signingKey: Uint8Array; encryptionKey: Uint8Array }): boolean =>
    equalBytes(user.signingKey, signingKey) && equalBytes(user.encryptionKey, encryptionKey);
  const existing = await store.getUser(username);
  if (existing !== undefined) {
    if (sameKeys(existing)) return { certificate: existing.certificate, again: true };
    log.info({ event: 'register.taken', session: context.session.id, username }, 'username taken');
    throw sispError('E_NAME_TAKEN', 'that username is taken');
  }
  const certificate = await issueUserCertificate(pki.ca, {
    username,
    signingKey,
    encryptionKey,
  });
  const result = await store.createUser({
    username,
    signingKey,
    encryptionKey,
    certificate,
    created: Date.now(),
  });
  if (result === 'taken') throw sispError('E_NAME_TAKEN', 'that username is taken');
  if (result === 'same') {
    // Registered by a concurrent session with the same keys: its certificate stands.
    const stored = await store.getUser(username);
    return { certificate: stored?.certificate ?? certificate, again: true };
  }
  return { certificate, again: false };
}

export async function register(
  context: HandshakeContext,
  message: RequestMessage<'register'>,
): Promise<void> {
  requireWelcomed(context);
  const { pki, log } = context.services;
  const { username, signingKey, encryptionKey, proof } = message.body;
  const payload = registerPayload({
    username,
    signingKey,
    encryptionKey,
    nonce: context.session.nonce,
    caFingerprint: pki.caFingerprint,
  });
  requireUsableX25519(encryptionKey);
  if (!(await verifyPayload('register', signingKey, proof, payload))) {
    log.warn(
      { event: 'register.fail', session: context.session.id, username },
      'registration proof failed',
    );
    throw sispError('E_AUTH', 'the proof of possession does not verify');
  }
  const { certificate, again } = await certificateFor(context, message.body);
  context.authenticated(username, signingKey);
  log.info({ event: 'register', session: context.session.id, username, again }, 'user registered');
  await context.send('registered', { username, certificate });
}

export async function auth(
  context: HandshakeContext,
  message: RequestMessage<'auth'>,
): Promise<void> {
  requireWelcomed(context);
  const { store, pki, log } = context.services;
  const { username, signature } = message.body;
  const user = await store.getUser(username);
  const payload = authPayload({
    username,
    nonce: context.session.nonce,
    caFingerprint: pki.caFingerprint,
  });
  if (user === undefined || !(await verifyPayload('auth', user.signingKey, signature, payload))) {
    log.warn(
      { event: 'auth.fail', session: context.session.id, username, remote: context.session.remote },
      'authentication failed',
    );
    throw sispError('E_AUTH', 'authentication failed');
  }
  context.authenticated(username, user.signingKey);
  log.info({ event: 'auth', session: context.session.id, username }, 'user authenticated');
  await context.send('authed', { username, certificate: user.certificate });
}

/**
 * A small-order X25519 key gives an all-zero shared secret with every private key
 * (clamping clears the cofactor), so one trial agreement detects it (RFC 7748 6.1).
 * Wrapping content keys to such a key would publish them. Node's OpenSSL directly,
 * synchronously: a WebCrypto import and derivation cost ~3x as much per registration.
 */
function requireUsableX25519(publicKey: Uint8Array): void {
  // Any private key tells a small-order key (the secret is zero with all of them): one
  // for the process, made on first use, used for nothing else.
  trialKey ??= generateKeyPairSync('x25519').privateKey;
  let shared: Uint8Array;
  try {
    const peer = x25519PublicFromRaw(Buffer.from(publicKey));
    shared = diffieHellman({ privateKey: trialKey, publicKey: peer });
  } catch (cause) {
    throw sispError('E_BAD_KEY', 'X25519 key agreement failed', { cause });
  }
  if (shared.every((byte) => byte === 0))
    throw sispError('E_BAD_KEY', 'X25519 peer key is of low order');
}

let trialKey: KeyObject | undefined;
