/** The page's state, as signals: each view reads what it shows and re-renders on change. */
import { signal } from '@preact/signals';
import type { SispClient } from '../../src/core/client.js';
import type { ListedImage } from '../../src/core/catalogue.js';

export type View = 'loading' | 'register' | 'gallery' | 'link';

export interface Upload {
  readonly name: string;
  readonly sent: number;
  readonly total: number;
  readonly state: 'sending' | 'done' | 'failed' | 'cancelled';
  readonly message?: string;
  readonly cancel: () => void;
}

export const view = signal<View>('loading');
export const client = signal<SispClient | undefined>(undefined);
export const fingerprint = signal('');
export const images = signal<readonly ListedImage[]>([]);
/** Object URLs of opened thumbnails, by image id (hex). */
export const thumbnails = signal<ReadonlyMap<string, string>>(new Map());
export const uploads = signal<readonly Upload[]>([]);
export const error = signal('');
export const notice = signal('');
export const viewing = signal<{ title: string; url: string; fileName: string } | undefined>(
  undefined,
);
/** Loud warnings about users whose key is not the one pinned, by username. */
export const keyWarnings = signal<ReadonlyMap<string, string>>(new Map());
