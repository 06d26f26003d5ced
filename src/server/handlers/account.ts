/** Handshake: hello, register, auth. Before it completes nothing else is allowed. */
import { issueUserCertificate } from '../../crypto/certificates.js';
import { importEd25519Public, x25519 } from '../../crypto/keys.js';
import { subtle } from '../../crypto/webcrypto.js';
import { authPayload, registerPayload, verifyPayload } from '../../crypto/signatures.js';
import { sispError } from '../../protocol/errors.js';
import { PROTOCOL_VERSION, SUPPORTED_VERSIONS, type Message } from '../../protocol/messages.js';
import type { Session } from '../session.js';
import { toHex } from '../../protocol/bytes.js';

export async function handleAccount(session: Session, message: Message): Promise<void> {
  const { context } = session;
  switch (message.type) {
    case 'hello': {
      if (session.state !== 'hello') throw sispError('E_BAD_REQUEST', 'hello was already received');
      if (!message.body.versions.includes(PROTOCOL_VERSION)) {
        await session.send('error', message.id, {
          code: 'E_VERSION',
          message: `this server speaks SISP/${SUPPORTED_VERSIONS.join(', ')}`,
          supported: [...SUPPORTED_VERSIONS],
        });
        session.close(1008, 'E_VERSION');
        return;
      }
      session.state = 'handshake';
      await session.send('welcome', message.id, {
        version: PROTOCOL_VERSION,
        nonce: session.nonce,
        caFingerprint: context.pki.caFingerprint,
        serverCertificate: context.pki.serverCertificate,
        maxFrame: context.config.limits.maxFrame,
        maxImage: context.config.limits.maxImage,
      });
      return;
    }
    case 'register': {
      requireHandshake(session);
      const { username, signingKey, encryptionKey, proof } = message.body;
      const payload = registerPayload({
        username,
        signingKey,
        encryptionKey,
        nonce: session.nonce,
        caFingerprint: context.pki.caFingerprint,
      });
      await requireUsableX25519(encryptionKey);
      if (!(await verifyPayload('register', signingKey, proof, payload))) {
        context.log.warn(
          { event: 'register.fail', session: session.id, username },
          'registration proof failed',
        );
        throw sispError('E_AUTH', 'the proof of possession does not verify');
      }
      const existing = await context.store.getUser(username);
      let certificate: Uint8Array;
      if (existing === undefined) {
        certificate = await issueUserCertificate(context.pki.ca, {
          username,
          signingKey: await importEd25519Public(signingKey),
          encryptionKey,
        });
        const result = await context.store.createUser({
          username,
          signingKey,
          encryptionKey,
          certificate,
          created: Date.now(),
        });
        if (result === 'taken') throw sispError('E_NAME_TAKEN', 'that username is taken');
        if (result === 'same')
          certificate = (await context.store.getUser(username))?.certificate ?? certificate;
      } else {
        const same =
          toHex(existing.signingKey) === toHex(signingKey) &&
          toHex(existing.encryptionKey) === toHex(encryptionKey);
        if (!same) {
          context.log.info(
            { event: 'register.taken', session: session.id, username },
            'username taken',
          );
          throw sispError('E_NAME_TAKEN', 'that username is taken');
        }
        certificate = existing.certificate;
      }
      session.authenticated(username);
      context.log.info(
        { event: 'register', session: session.id, username, again: existing !== undefined },
        'user registered',
      );
      await session.send('registered', message.id, { username, certificate });
      return;
    }
    case 'auth': {
      requireHandshake(session);
      const { username, signature } = message.body;
      const user = await context.store.getUser(username);
      const payload = authPayload({
        username,
        nonce: session.nonce,
        caFingerprint: context.pki.caFingerprint,
      });
      if (
        user === undefined ||
        !(await verifyPayload('auth', user.signingKey, signature, payload))
      ) {
        context.log.warn(
          { event: 'auth.fail', session: session.id, username, remote: session.remote },
          'authentication failed',
        );
        throw sispError('E_AUTH', 'authentication failed');
      }
      session.authenticated(username);
      context.log.info({ event: 'auth', session: session.id, username }, 'user authenticated');
      await session.send('authed', message.id, { username, certificate: user.certificate });
      return;
    }
    default:
      if (session.state === 'ready')
        throw sispError('E_BAD_REQUEST', `${message.type} is not a request`);
      throw sispError('E_AUTH', 'authenticate first');
  }
}

function requireHandshake(session: Session): void {
  if (session.state === 'hello') throw sispError('E_BAD_REQUEST', 'send hello first');
  if (session.state === 'ready')
    throw sispError('E_BAD_REQUEST', 'this session is already authenticated');
}

/**
 * A small-order X25519 key gives an all-zero shared secret with every private key
 * (clamping clears the cofactor), so one trial agreement detects it; x25519()
 * refuses the zero secret. Wrapping content keys to such a key would publish them.
 */
async function requireUsableX25519(publicKey: Uint8Array): Promise<void> {
  const trial = (await subtle().generateKey({ name: 'X25519' }, false, [
    'deriveBits',
  ])) as CryptoKeyPair;
  await x25519(trial.privateKey, publicKey);
}
