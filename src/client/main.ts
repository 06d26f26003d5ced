export function runClient(_args: string[]): Promise<number> {
  process.stdout.write('sisp client: not yet\n');
  return Promise.resolve(0);
}
