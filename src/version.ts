/** The version people see (`sisp --version`, the agent sent in hello), from package.json. */
import { readFileSync } from 'node:fs';

function readVersion(): string {
  try {
    // src/ and dist/ both sit one level below the package root.
    const text = readFileSync(new URL('../package.json', import.meta.url), 'utf8');
    const version = (JSON.parse(text) as { version?: unknown }).version;
    return typeof version === 'string' ? version : 'unknown';
  } catch {
    return 'unknown';
  }
}

export const VERSION = readVersion();
