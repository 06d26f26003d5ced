/**
 * Image events as a client sees them: pushed live by the server, or read back from
 * the durable per-user log after `position`, so a client that was away (or
 * reconnecting) catches up on what happened and misses nothing.
 */
import { sispError } from '../protocol/errors.js';
import type { EVENT_KINDS } from '../protocol/messages.js';
import type { SispClient } from './client.js';
import type { ImageEvent } from './connection.js';

export interface WatchEvent {
  readonly kind: (typeof EVENT_KINDS)[number];
  /** The image's id; the album's, for the album kinds. */
  readonly image: Uint8Array;
  readonly name: string;
  readonly owner: string;
  readonly position: number;
}

const KINDS = {
  'event.new_image': 'new_image',
  'event.deleted': 'deleted',
  'event.unshared': 'withdrawn',
  'event.album_shared': 'album_shared',
  'event.album_unshared': 'album_unshared',
} as const;

export function fromPush(event: ImageEvent): WatchEvent {
  const { name, owner, position } = event.body;
  const id = 'album' in event.body ? event.body.album : event.body.image;
  return { kind: KINDS[event.type], image: id, name, owner, position };
}

export interface EventPage {
  readonly events: readonly WatchEvent[];
  /** Ask again after this. */
  readonly position: number;
  readonly more: boolean;
}

/** The log after `after`, a page at a time; without `after`, only where the log ends now. */
export async function eventsAfter(client: SispClient, after?: number): Promise<EventPage> {
  const reply = await client.connection.request('events', after === undefined ? {} : { after });
  if (reply.type !== 'events.result') throw sispError('E_BAD_FRAME', 'unexpected reply to events');
  return reply.body;
}
