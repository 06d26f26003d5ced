/**
 * A connected, authenticated client: resolves the server and CA from options, the
 * environment or the home directory; checks the CA fingerprint the server announces;
 * registers or authenticates; verifies and pins peers' certificates.
 */
import { readFile } from 'node:fs/promises';
import {
  fromPem,
  verifyServerCertificate,
  verifyUserCertificate,
  type VerifiedUser,
} from '../crypto/certificates.js';
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
import { openKeystore, sealKeystore } from '../crypto/keystore.js';
import { authPayload, registerPayload, signPayload } from '../crypto/signatures.js';
import { equalBytes, toHex } from '../protocol/bytes.js';
import { sispError } from '../protocol/errors.js';
import { PROTOCOL_VERSION, type MessageBody } from '../protocol/messages.js';
import { normalizeUsername } from '../protocol/names.js';
import { Connection } from './connection.js';
import type { Home, Pin } from './home.js';

export interface ClientOptions {
  readonly home: Home;
  readonly server?: string;
  readonly caFile?: string;
  readonly passphrase?: string;
}

export interface Endpoint {
  readonly url: string;
  readonly caPem: string;
  readonly caDer: Uint8Array;
}

export async function resolveEndpoint(options: ClientOptions): Promise<Endpoint> {
  const config = await options.home.readConfig();
  const url = options.server ?? config?.server;
  if (url === undefined) {
    throw sispError(
      'E_BAD_REQUEST',
      'no server given: use --server wss://HOST:PORT/ (or SISP_SERVER), or register first',
    );
  }
  let caPem: string | undefined;
  if (options.caFile !== undefined) {
    try {
      caPem = await readFile(options.caFile, 'utf8');
    } catch {
      throw sispError('E_BAD_REQUEST', `cannot read the CA certificate ${options.caFile}`);
    }
  } else {
    caPem = await options.home.readCa();
  }
  if (caPem === undefined)
    throw sispError(
      'E_BAD_REQUEST',
      "no CA certificate: use --ca FILE (the server's DATA/ca.pem) or SISP_CA",
    );
  return { url, caPem, caDer: fromPem(caPem) };
}

export class SispClient {
  readonly connection: Connection;
  readonly endpoint: Endpoint;
  readonly welcome: MessageBody<'welcome'>;
  readonly home: Home;
  username = '';
  identity: Identity | undefined;
  #serverKey: Promise<Uint8Array> | undefined;
  #ownKeys: Promise<PublicIdentity> | undefined;

  private constructor(
    connection: Connection,
    endpoint: Endpoint,
    welcome: MessageBody<'welcome'>,
    home: Home,
  ) {
    this.connection = connection;
    this.endpoint = endpoint;
    this.welcome = welcome;
    this.home = home;
  }

  /** Connects and says hello; the caller then registers or authenticates. */
  static async connect(options: ClientOptions): Promise<SispClient> {
    const endpoint = await resolveEndpoint(options);
    const connection = await Connection.open(endpoint.url, endpoint.caPem);
    try {
      const reply = await connection.request('hello', {
        versions: [PROTOCOL_VERSION],
        agent: 'sisp-cli/0.1',
      });
      if (reply.type !== 'welcome') throw sispError('E_BAD_FRAME', 'unexpected reply to hello');
      const expected = await certificateFingerprint(endpoint.caDer);
      if (!equalBytes(reply.body.caFingerprint, expected)) {
        throw sispError(
          'E_CERTIFICATE',
          'certificate mismatch: the server announces a different CA than the pinned one',
        );
      }
      return new SispClient(connection, endpoint, reply.body, options.home);
    } catch (error) {
      connection.close();
      throw error;
    }
  }

  /** Connects and authenticates with the keys in the home directory. */
  static async login(options: ClientOptions): Promise<SispClient> {
    if (!options.home.hasKeys())
      throw sispError(
        'E_AUTH',
        `no keys in ${options.home.dir}: run "sisp register <username>" first`,
      );
    const keys = await openKeystore(await options.home.readKeys(), options.passphrase);
    const client = await SispClient.connect(options);
    try {
      await client.authenticate(keys.username, keys.identity);
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

  /** Makes keys, proves possession, verifies the certificate, saves keys 0600. */
  async register(
    rawUsername: string,
    passphrase?: string,
  ): Promise<{ certificate: Uint8Array; fingerprint: string }> {
    const username = normalizeUsername(rawUsername);
    if (this.home.hasKeys())
      throw sispError(
        'E_EXISTS',
        `this home (${this.home.dir}) already has keys; use another --home`,
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
    await this.home.writeKeys(
      await sealKeystore(username, identity, passphrase === undefined ? {} : { passphrase }),
    );
    await this.home.writeCa(this.endpoint.caPem);
    await this.home.writeConfig({ server: this.endpoint.url, username });
    this.username = username;
    this.identity = identity;
    return {
      certificate: reply.body.certificate,
      fingerprint: readableFingerprint(await keyFingerprint(pub.signingKey, pub.encryptionKey)),
    };
  }

  async #checkOwnCertificate(der: Uint8Array, username: string, identity: Identity): Promise<void> {
    const verified = await verifyUserCertificate(der, this.endpoint.caDer, { username });
    const pub = await publicIdentity(identity);
    if (
      !equalBytes(verified.signingKey, pub.signingKey) ||
      !equalBytes(verified.encryptionKey, pub.encryptionKey)
    ) {
      throw sispError('E_CERTIFICATE', 'the server certified different keys than ours');
    }
    await this.pin(verified);
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
    this.#serverKey ??= verifyServerCertificate(
      this.welcome.serverCertificate,
      this.endpoint.caDer,
    ).then((verified) => verified.encryptionKey);
    return this.#serverKey;
  }

  /** Fetches, verifies and pin-checks another user's certificate. */
  async peer(username: string): Promise<VerifiedUser & { certificate: Uint8Array }> {
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
    const verified = await verifyUserCertificate(certificate, this.endpoint.caDer, { username });
    return { ...verified, fingerprint: await this.pin(verified) };
  }

  /** Trust on first use: pin a user's keys, refuse a different key later. Returns the fingerprint. */
  async pin(user: VerifiedUser): Promise<string> {
    const pins = await this.home.readPins();
    const fingerprint = readableFingerprint(
      await keyFingerprint(user.signingKey, user.encryptionKey),
    );
    const existing: Pin | undefined = pins[user.username];
    if (existing !== undefined) {
      if (
        existing.signingKey !== toHex(user.signingKey) ||
        existing.encryptionKey !== toHex(user.encryptionKey)
      ) {
        throw sispError(
          'E_KEY_CHANGED',
          `the key for ${user.username} has CHANGED: pinned ${existing.fingerprint}, server now presents ${fingerprint}. ` +
            'Compare fingerprints with them out of band; if the change is genuine, remove the entry from pins.json.',
        );
      }
      return fingerprint;
    }
    pins[user.username] = {
      signingKey: toHex(user.signingKey),
      encryptionKey: toHex(user.encryptionKey),
      fingerprint,
      firstSeen: new Date().toISOString(),
    };
    await this.home.writePins(pins);
    return fingerprint;
  }

  close(): void {
    this.connection.close();
  }
}
