/**
 * The BlobStore port: where the ciphertext of images lives. Files in the data
 * directory now (FileBlobStore); S3-compatible object storage for scale-out. A blob
 * is written once through a BlobUpload, becomes visible under its key only when
 * commit() returns (and is durable then), is read by byte range, and is removed
 * when nothing refers to it. No path, handle or stream of the implementation's
 * crosses this interface. Every implementation runs the same conformance suite
 * (test/conformance/blob-store.ts).
 */

export interface BlobUpload {
  /** The key the blob will have once committed. */
  readonly key: string;
  /** Bytes accepted so far (written or being written). */
  readonly length: number;
  /**
   * Appends `data` (in call order). Need not wait for the previous append; resolves
   * once the store no longer needs `data` (the caller may then reuse the memory and
   * grant more credit). Rejects if the upload has failed.
   */
  append(data: Uint8Array): Promise<void>;
  /**
   * Makes the blob durable and visible under the key it was begun with. After it
   * resolves, the blob survives a crash.
   */
  commit(): Promise<void>;
  /** Discards the upload; nothing of it remains. Safe to call at any time, more than once. */
  abort(): Promise<void>;
}

export interface BlobReader {
  /** The blob's length in bytes. */
  readonly length: number;
  /**
   * Fills `target` with the bytes at `position`; returns how many were read (fewer
   * only at the end of the blob).
   */
  read(target: Uint8Array, position: number): Promise<number>;
  close(): Promise<void>;
}

export interface ListedBlob {
  readonly key: string;
  readonly modified: number;
}

export interface BlobStore {
  /**
   * Starts a new blob under `key`, which the caller draws at random (so no two
   * uploads share one, and nothing is there yet); nothing is visible until commit().
   */
  begin(key: string): Promise<BlobUpload>;
  /** Opens a committed blob. E_NOT_FOUND if there is none under `key`. */
  open(key: string): Promise<BlobReader>;
  /** Removes a committed blob; removing one that is not there is not an error. */
  remove(key: string): Promise<void>;
  /**
   * Every committed blob, for garbage collection against the metadata: its key, and
   * when it was last written (ms since the epoch), so a collector can leave alone
   * what another node may have just stored.
   */
  list(): AsyncIterable<ListedBlob>;
  /** Bytes that can still be stored, or undefined where the store has no such limit. */
  freeSpace(): Promise<number | undefined>;
  close(): Promise<void>;
}

/**
 * A write that failed because the storage is full says so (E_NO_SPACE), never
 * E_INTERNAL: the client learns to come back later, the operator what to fix.
 */

/**
 * Keys are lowercase hex, never a path: 32 random hex digits for every blob stored
 * since blobs were named by upload, the envelope's SHA-256 before that.
 */
export const BLOB_KEY_PATTERN = /^[0-9a-f]{16,128}$/;
