/**
 * The progress bar of a transfer, on stderr and only on a terminal. Lines printed
 * while it runs (a notification in the prompt) go above it through log(), so the bar
 * never draws over them and they are never erased when it clears.
 */
import cliProgress from 'cli-progress';
import type { Output } from './output.js';

export interface Progress {
  readonly update: (done: number, total: number) => void;
  /** Writes `text` (whole lines) to `stream` above the bar. */
  readonly log: (stream: NodeJS.WritableStream, text: string) => void;
  readonly stop: () => void;
}

/** Where the prompt finds the bar that is running, to print notifications above it. */
export interface LiveProgress {
  current: Progress | undefined;
}

const SILENT: Progress = {
  update: () => undefined,
  log: (stream, text) => stream.write(text),
  stop: () => undefined,
};

const mib = (bytes: number): number => Math.round((bytes / 1048576) * 10) / 10;

export function progressBar(output: Output, label: string, live?: LiveProgress): Progress {
  if (output.err.isTTY !== true) return SILENT;
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}% {value}/{total} MiB`,
      stream: output.err,
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let shown: { done: number; total: number } | undefined;
  const progress: Progress = {
    update(done, total) {
      if (shown === undefined) bar.start(mib(total), mib(done));
      else bar.update(mib(done));
      shown = { done, total };
    },
    log(stream, text) {
      if (shown === undefined) {
        stream.write(text);
        return;
      }
      // Cleared, the line written, then drawn again below it.
      bar.stop();
      stream.write(text);
      bar.start(mib(shown.total), mib(shown.done));
    },
    stop() {
      if (shown !== undefined) bar.stop();
      shown = undefined;
      if (live?.current === progress) live.current = undefined;
    },
  };
  if (live !== undefined) live.current = progress;
  return progress;
}
