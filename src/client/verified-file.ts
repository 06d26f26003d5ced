/**
 * The home's verified.json: certificates this client verified in full before
 * (core/verified.ts), so that the next command accepts the same bytes without
 * loading the X.509 parser (~45 ms of every signed-in command's start-up). A cache:
 * a damaged or unreadable file reads as empty and is replaced at the next save.
 */
import { readFile } from 'node:fs/promises';
import { keepVerified, type VerifiedRecord } from '../core/storage.js';
import { fromHex, toHex } from '../protocol/bytes.js';

/** As stored: keys as hex, like pins.json. */
type RecordFile =
  | {
      kind: 'user';
      username: string;
      signingKey: string;
      encryptionKey: string;
      serial: string;
      notAfter: number;
    }
  | { kind: 'server'; encryptionKey: string; notAfter: number };

const KEY = /^[0-9a-f]{128}$/;
const HEX32 = /^[0-9a-f]{64}$/;

export class VerifiedFile {
  readonly path: string;
  /**
   * The file as this process last read or wrote it, read once: a long-lived client
   * (watch, the prompt) verifies peers often, and the records only ever grow more
   * complete. Another process's later additions are missed, which costs a full check.
   */
  #records: Promise<Map<string, VerifiedRecord>> | undefined;
  /** Writes in this process, one after another: two saved at once both stay. */
  #writes: Promise<void> = Promise.resolve();

  constructor(path: string) {
    this.path = path;
  }

  async read(key: string): Promise<VerifiedRecord | undefined> {
    return (await this.#all()).get(key);
  }

  save(
    key: string,
    record: VerifiedRecord,
    write: (path: string, text: string) => Promise<void>,
  ): Promise<void> {
    const saving = this.#writes.then(async () => {
      const records = keepVerified(await this.#all(), key, record);
      const file = Object.fromEntries([...records].map(([k, r]) => [k, toFile(r)]));
      await write(this.path, `${JSON.stringify(file, null, 2)}\n`);
    });
    this.#writes = saving.catch(() => undefined);
    return saving;
  }

  #all(): Promise<Map<string, VerifiedRecord>> {
    this.#records ??= readRecords(this.path);
    return this.#records;
  }
}

/** What the file holds; empty when it is missing, unreadable or damaged. */
async function readRecords(path: string): Promise<Map<string, VerifiedRecord>> {
  const records = new Map<string, VerifiedRecord>();
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch {
    return records;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return records;
  for (const [key, value] of Object.entries(parsed)) {
    const record = KEY.test(key) ? fromFile(value) : undefined;
    if (record !== undefined) records.set(key, record);
  }
  return records;
}

function toFile(record: VerifiedRecord): RecordFile {
  return record.kind === 'user'
    ? {
        kind: 'user',
        username: record.username,
        signingKey: toHex(record.signingKey),
        encryptionKey: toHex(record.encryptionKey),
        serial: record.serial,
        notAfter: record.notAfter,
      }
    : { kind: 'server', encryptionKey: toHex(record.encryptionKey), notAfter: record.notAfter };
}

/** A stored record, or undefined if anything about it is off. */
function fromFile(value: unknown): VerifiedRecord | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const entry = value as Partial<Record<string, unknown>>;
  const { kind, encryptionKey, notAfter } = entry;
  if (typeof encryptionKey !== 'string' || !HEX32.test(encryptionKey)) return undefined;
  if (typeof notAfter !== 'number' || !Number.isSafeInteger(notAfter)) return undefined;
  if (kind === 'server') return { kind, encryptionKey: fromHex(encryptionKey), notAfter };
  const { username, signingKey, serial } = entry;
  if (kind !== 'user' || typeof username !== 'string' || typeof serial !== 'string')
    return undefined;
  if (typeof signingKey !== 'string' || !HEX32.test(signingKey)) return undefined;
  return {
    kind,
    username,
    signingKey: fromHex(signingKey),
    encryptionKey: fromHex(encryptionKey),
    serial,
    notAfter,
  };
}
