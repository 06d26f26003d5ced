/**
 * sharp (libvips), loaded on first use: it costs ~28 MiB of memory and ~90 ms of
 * start-up, which only the commands that read image headers or pixels (post's
 * image check, display) should pay; download, list and watch never load it.
 */
import type SharpModule from 'sharp';

export type Sharp = typeof SharpModule;
export type SharpImage = ReturnType<Sharp>;

let loading: Promise<Sharp> | undefined;

export function loadSharp(): Promise<Sharp> {
  loading ??= import('sharp').then((module) => module.default);
  return loading;
}
