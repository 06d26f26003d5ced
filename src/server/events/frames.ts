/** Each event is encoded once, and the same bytes go to every session told of it. */
import { encodeFrame } from '../../protocol/frame.js';
import type { ImageEvent } from './types.js';

const frames = new WeakMap<ImageEvent, Uint8Array>();

const TYPES = {
  new_image: 'event.new_image',
  deleted: 'event.deleted',
  withdrawn: 'event.unshared',
  album_shared: 'event.album_shared',
  album_unshared: 'event.album_unshared',
} as const;

export function eventFrame(event: ImageEvent): Uint8Array {
  let frame = frames.get(event);
  if (frame === undefined) {
    const { name, owner, position } = event;
    frame =
      event.kind === 'album_shared' || event.kind === 'album_unshared'
        ? encodeFrame(TYPES[event.kind], 0, { album: event.image, name, owner, position })
        : encodeFrame(TYPES[event.kind], 0, { image: event.image, name, owner, position });
    frames.set(event, frame);
  }
  return frame;
}

/** Whether `user` is told of `event`. */
export function isToldOf(event: ImageEvent, user: string): boolean {
  return event.notify === 'public' || event.notify.includes(user);
}
