/** The version people see (`sisp --version`, the agent sent in hello), from package.json. */
import { readFileSync } from 'node:fs';

// src/ and dist/ sit one level below the package root, the bundle's chunks two.
const CANDIDATES = ['../package.json', '../../package.json'];

function readVersion(): string {
  for (const candidate of CANDIDATES) {
    try {
      const text = readFileSync(new URL(candidate, import.meta.url), 'utf8');
      const { name, version } = JSON.parse(text) as { name?: unknown; version?: unknown };
      if (name === 'sisp' && typeof version === 'string') return version;
    } catch {
      // Not here: try the next place.
    }
  }
  return 'unknown';
}

export const VERSION = readVersion();
