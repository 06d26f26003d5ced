/**
 * A connected client: resolves the server and CA from options or storage, checks
 * the CA fingerprint the server announces, registers or authenticates, and
 * verifies and pins peers' certificates. Platform-neutral: the socket comes from a
 * Connector, keys and pins from a ClientStorage.
 */
import type { VerifiedUser } from '../crypto/certificates.js';
import {
  certificateFingerprint,
  keyFingerprint,
  readableFingerprint,
} from '../crypto/fingerprint.js';
import {
  generateIdentity,
  publicIdentity,
  type Identity,
  type PublicIdentity,
} from '../crypto/keys.js';
import { fromPem } from '../crypto/pem.js';
import { authPayload, registerPayload, signPayload } from '../crypto/signatures.js';
import { equalBytes } from '../protocol/bytes.js';
import { sispError } from '../protocol/errors.js';
import { PROTOCOL_VERSION, type MessageBody } from '../protocol/messages.js';
import { normalizeUsername } from '../protocol/names.js';
import { Connection } from './connection.js';
import { acceptPin, checkPin } from './pins.js';
import { WEB_CRYPTO, type CryptoBackend } from './platform.js';
import type { ClientStorage } from './storage.js';
import type { Connector } from './transport.js';
import { loadCertificates, verifyServerRemembered, verifyUserRemembered } from './verified.js';

export interface ClientOptions {
  readonly storage: ClientStorage;
  readonly connector: Connector;
  /** wss://HOST:PORT/; otherwise the one in storage. */
  readonly server?: string;
  /** The server's CA certificate (PEM); otherwise the one in storage. */
  readonly caPem?: string;
  readonly passphrase?: string;
  readonly crypto?: CryptoBackend;
  /** Sent in hello, e.g. "sisp-cli/0.1". */
  readonly agent?: string;
}

export interface Endpoint {
  readonly url: string;
  readonly caPem: string;
  readonly caDer: Uint8Array;
}

export async function resolveEndpoint(options: ClientOptions): Promise<Endpoint> {
  const url = options.server ?? (await options.storage.readConfig())?.server;
  if (url === undefined) {
    throw sispError(
      'E_BAD_REQUEST',
      'no server given: use --server wss://HOST:PORT/ (or SISP_SERVER), or register first',
    );
  }
  const caPem = options.caPem ?? (await options.storage.readCa());
  if (caPem === undefined)
    throw sispError(
      'E_BAD_REQUEST',
      "no CA certificate: use --ca FILE (the server's DATA/ca.pem) or SISP_CA",
    );
  let caDer: Uint8Array;
  try {
    caDer = fromPem(caPem);
  } catch (cause) {
    throw sispError('E_CERTIFICATE', 'the CA certificate is not a PEM certificate', { cause });
  }
  return { url, caPem, caDer };
}

export class SispClient {
  readonly connection: Connection;
  readonly endpoint: Endpoint;
  readonly welcome: MessageBody<'welcome'>;
  readonly storage: ClientStorage;
  readonly crypto: CryptoBackend;
  username = '';
  identity: Identity | undefined;
  #serverKey: Promise<Uint8Array> | undefined;
  #ownKeys: Promise<PublicIdentity> | undefined;

  private constructor(
    connection: Connection,
    endpoint: Endpoint,
    welcome: MessageBody<'welcome'>,
    options: ClientOptions,
  ) {
    this.connection = connection;
    this.endpoint = endpoint;
    this.welcome = welcome;
    this.storage = options.storage;
    this.crypto = options.crypto ?? WEB_CRYPTO;
  }

  /** Connects and says hello; the caller then registers or authenticates. */
  static async connect(options: ClientOptions): Promise<SispClient> {
    const endpoint = await resolveEndpoint(options);
    const connection = await Connection.open(options.connector, endpoint.url, endpoint.caPem);
    try {
      const reply = await connection.request('hello', {
        versions: [PROTOCOL_VERSION],
        agent: options.agent ?? 'sisp-core/0.1',
      });
      if (reply.type !== 'welcome') throw sispError('E_BAD_FRAME', 'unexpected reply to hello');
      const expected = await certificateFingerprint(endpoint.caDer);
      if (!equalBytes(reply.body.caFingerprint, expected)) {
        throw sispError(
          'E_CERTIFICATE',
          'certificate mismatch: the server announces a different CA than the pinned one',
        );
      }
      return new SispClient(connection, endpoint, reply.body, options);
    } catch (error) {
      connection.close();
      throw error;
    }
  }

  /** Connects and authenticates with the identity in storage. */
  static async login(options: ClientOptions): Promise<SispClient> {
    const stored = await options.storage.loadIdentity(options.passphrase);
    const client = await SispClient.connect(options);
    try {
      await client.authenticate(stored.username, stored.identity);
      return client;
    } catch (error) {
      client.close();
      throw error;
    }
  }

  async authenticate(username: string, identity: Identity): Promise<void> {
    const payload = authPayload({
      username,
      nonce: this.welcome.nonce,
      caFingerprint: this.welcome.caFingerprint,
    });
    const signature = await signPayload('auth', identity.signing.privateKey, payload);
    const reply = await this.connection.request('auth', { username, signature });
    if (reply.type !== 'authed') throw sispError('E_BAD_FRAME', 'unexpected reply to auth');
    await this.#checkOwnCertificate(reply.body.certificate, username, identity);
    this.username = username;
    this.identity = identity;
  }

  /** Makes keys, proves possession, verifies the certificate, stores the identity. */
  async register(
    rawUsername: string,
    passphrase?: string,
  ): Promise<{ certificate: Uint8Array; fingerprint: string }> {
    const username = normalizeUsername(rawUsername);
    if (await this.storage.hasIdentity())
      throw sispError(
        'E_EXISTS',
        `this home (${this.storage.location}) already has keys; use another --home`,
      );
    const identity = await generateIdentity();
    const pub = await publicIdentity(identity);
    const payload = registerPayload({
      username,
      ...pub,
      nonce: this.welcome.nonce,
      caFingerprint: this.welcome.caFingerprint,
    });
    const proof = await signPayload('register', identity.signing.privateKey, payload);
    const reply = await this.connection.request('register', { username, ...pub, proof });
    if (reply.type !== 'registered') throw sispError('E_BAD_FRAME', 'unexpected reply to register');
    await this.#checkOwnCertificate(reply.body.certificate, username, identity);
    await this.storage.saveIdentity({ username, identity }, passphrase);
    await this.storage.writeCa(this.endpoint.caPem);
    await this.storage.writeConfig({ server: this.endpoint.url, username });
    this.username = username;
    this.identity = identity;
    return {
      certificate: reply.body.certificate,
      fingerprint: readableFingerprint(await keyFingerprint(pub.signingKey, pub.encryptionKey)),
    };
  }

  async #checkOwnCertificate(der: Uint8Array, username: string, identity: Identity): Promise<void> {
    const verified = await verifyUserRemembered(this.storage, this.endpoint.caDer, der, username);
    const pub = await publicIdentity(identity);
    if (
      !equalBytes(verified.signingKey, pub.signingKey) ||
      !equalBytes(verified.encryptionKey, pub.encryptionKey)
    ) {
      throw sispError('E_CERTIFICATE', 'the server certified different keys than ours');
    }
    await this.pin(verified);
  }

  /** The signed-in identity; E_AUTH before authentication. */
  requireIdentity(): Identity {
    if (this.identity === undefined) throw sispError('E_AUTH', 'not logged in');
    return this.identity;
  }

  /** Our own public keys, exported once. */
  ownPublicKeys(): Promise<PublicIdentity> {
    const identity = this.identity;
    if (identity === undefined) return Promise.reject(sispError('E_AUTH', 'not logged in'));
    this.#ownKeys ??= publicIdentity(identity);
    return this.#ownKeys;
  }

  /** The server's wrapping key, from its certificate (verified once per connection). */
  serverEncryptionKey(): Promise<Uint8Array> {
    this.#serverKey ??= verifyServerRemembered(
      this.storage,
      this.endpoint.caDer,
      this.welcome.serverCertificate,
    );
    return this.#serverKey;
  }

  /** Fetches, verifies and pin-checks another user's certificate. */
  async peer(
    username: string,
  ): Promise<VerifiedUser & { certificate: Uint8Array; fingerprint: string }> {
    const reply = await this.connection.request('cert.get', { username });
    if (reply.type !== 'cert') throw sispError('E_BAD_FRAME', 'unexpected reply to cert.get');
    const verified = await this.verifyPeer(reply.body.certificate, username);
    return { ...verified, certificate: reply.body.certificate };
  }

  /** Verifies a user's certificate and checks it against the pin; adds the readable fingerprint. */
  async verifyPeer(
    certificate: Uint8Array,
    username: string,
  ): Promise<VerifiedUser & { fingerprint: string }> {
    const verified = await verifyUserRemembered(
      this.storage,
      this.endpoint.caDer,
      certificate,
      username,
    );
    return { ...verified, fingerprint: await this.pin(verified) };
  }

  /**
   * Replaces the pin for `username` with the keys the server now presents (checked
   * against the CA), only if `typedFingerprint` is theirs.
   */
  async acceptKey(
    username: string,
    typedFingerprint: string,
  ): Promise<{ fingerprint: string; previous: string | undefined }> {
    const name = normalizeUsername(username);
    const reply = await this.connection.request('cert.get', { username: name });
    if (reply.type !== 'cert') throw sispError('E_BAD_FRAME', 'unexpected reply to cert.get');
    const { verifyUserCertificate } = await loadCertificates();
    const verified = await verifyUserCertificate(reply.body.certificate, this.endpoint.caDer, {
      username: name,
    });
    return acceptPin(this.storage, verified, typedFingerprint);
  }

  /** Trust on first use: pin a user's keys, refuse a different key later. Returns the fingerprint. */
  pin(user: VerifiedUser): Promise<string> {
    return checkPin(this.storage, user);
  }

  close(): void {
    this.connection.close();
  }
}
