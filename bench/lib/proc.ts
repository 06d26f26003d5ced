/** Resident memory and CPU time of a process, read from /proc (Linux). */
import { readFileSync } from 'node:fs';

/** Peak resident set (VmHWM) in bytes, or 0 if the process is gone. */
export function peakRss(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /VmHWM:\s+(\d+) kB/.exec(status);
    return match?.[1] === undefined ? 0 : Number(match[1]) * 1024;
  } catch {
    return 0;
  }
}

/** User + system CPU seconds consumed so far. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of stat (utime, stime), counted from after the command name.
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks / 100;
}

/** Samples a process's peak RSS until it exits; resolves with the last value seen. */
export function watchPeakRss(pid: number, intervalMs = 25): { stop: () => number } {
  let peak = 0;
  const timer = setInterval(() => {
    peak = Math.max(peak, peakRss(pid));
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      peak = Math.max(peak, peakRss(pid));
      return peak;
    },
  };
}
