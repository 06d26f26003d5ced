/**
 * The sisp client core: everything a front end needs, on any platform with
 * WebCrypto and web streams. A front end supplies a Connector (the socket), a
 * ClientStorage (keys, pins, server) and, to post or download, an ImageSource or
 * an ImageSink.
 */
export { SispClient, resolveEndpoint, type ClientOptions, type Endpoint } from './client.js';
export { Connection, type ImageEvent, type NewImageEvent } from './connection.js';
export { deleteImage, usage, type Usage } from './manage.js';
export { listImages, resolveImage, type ListedImage } from './catalogue.js';
export {
  downloadImage,
  DOWNLOAD_WINDOW,
  type DownloadOptions,
  type DownloadResult,
  type ImageRef,
} from './download.js';
export { WEB_CRYPTO, type CryptoBackend } from './platform.js';
export { audienceFor, postImage, type PostRequest, type PostResult } from './post.js';
export { memorySink, type ImageSink, type SinkImage } from './sink.js';
export { bytesSource, sniffContentType, streamSource, type ImageSource } from './source.js';
export {
  MemoryStorage,
  type ClientStorage,
  type Pin,
  type StoredConfig,
  type StoredIdentity,
} from './storage.js';
export type { ConnectOptions, Connector, Transport, TransportEvents } from './transport.js';
export { webSocketConnector } from './websocket-transport.js';
