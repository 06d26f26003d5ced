/** What every session and handler shares: configuration, keys, storage, events, log. */
import type { ServerConfig } from './config.js';
import type { BlobStore } from './blobs.js';
import type { EventBus } from './events.js';
import type { Logger } from './log.js';
import type { ServerPki } from './pki.js';
import type { RateLimiter } from './rate-limit.js';
import type { Store } from './store/types.js';

export interface ServerContext {
  readonly config: ServerConfig;
  readonly pki: ServerPki;
  readonly store: Store;
  readonly blobs: BlobStore;
  readonly events: EventBus;
  readonly log: Logger;
  readonly rateLimiter: RateLimiter;
}
