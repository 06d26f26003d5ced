/** Where the fixtures are, for Node-only tests that hand paths to programs. */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const IMAGES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'images');
