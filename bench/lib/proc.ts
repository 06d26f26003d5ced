/** Resident memory and CPU time of a process, read from /proc (Linux). */
import { readFileSync } from 'node:fs';

function statusField(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(status);
    return match?.[1] === undefined ? 0 : Number(match[1]) * 1024;
  } catch {
    return 0;
  }
}

/** Peak resident set (VmHWM) in bytes, or 0 if the process is gone. */
export function peakRss(pid: number): number {
  return statusField(pid, 'VmHWM');
}

/** Resident set now (VmRSS) in bytes, or 0 if the process is gone. */
export function currentRss(pid: number): number {
  return statusField(pid, 'VmRSS');
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

export interface MachineCpu {
  /** CPU seconds in user space (user + nice), all cores together. */
  readonly user: number;
  /** CPU seconds in the kernel (system + irq + softirq). */
  readonly system: number;
}

/** CPU time the whole machine has spent so far, from /proc/stat (USER_HZ = 100). */
export function machineCpu(): MachineCpu {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0] = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return { user: (user + nice) / 100, system: (system + irq + softirq) / 100 };
}

/** Machine CPU seconds spent while `work` ran: both ends of a transfer, every thread. */
export async function machineCpuDuring<T>(
  work: () => Promise<T> | T,
): Promise<{ result: T; cpu: MachineCpu }> {
  const before = machineCpu();
  const result = await work();
  const after = machineCpu();
  return {
    result,
    cpu: { user: after.user - before.user, system: after.system - before.system },
  };
}
