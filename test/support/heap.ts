/** The JS heap in use, where the platform tells (Node); 0 elsewhere. */
export function heapUsed(): number {
  const host = globalThis as { process?: { memoryUsage(): { heapUsed: number } } };
  return host.process?.memoryUsage().heapUsed ?? 0;
}
