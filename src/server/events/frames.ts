/** Each event is encoded once, and the same bytes go to every session told of it. */
import { encodeFrame } from '../../protocol/frame.js';
import type { ImageEvent } from './types.js';

const frames = new WeakMap<ImageEvent, Uint8Array>();

const TYPES = {
  new_image: 'event.new_image',
  deleted: 'event.deleted',
  withdrawn: 'event.unshared',
} as const;

export function eventFrame(event: ImageEvent): Uint8Array {
  let frame = frames.get(event);
  if (frame === undefined) {
    frame = encodeFrame(TYPES[event.kind], 0, {
      image: event.image,
      name: event.name,
      owner: event.owner,
      position: event.position,
    });
    frames.set(event, frame);
  }
  return frame;
}

/** Whether `user` is told of `event`. */
export function isToldOf(event: ImageEvent, user: string): boolean {
  return event.notify === 'public' || event.notify.includes(user);
}
