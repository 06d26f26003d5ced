/**
 * A hostile server as a real process, for the CLI to meet: the real server with a
 * Store in front of the real one that answers every question about the image
 * OWNER/NAME (argv) with another image of the same name (by another owner), as if
 * it were OWNER's, when a client downloads it (the listing stays true, so the
 * client asks for the image by its id). Prints the same "sisp serving" line as `sisp serve`.
 *
 * node --import tsx test/support/hostile-serve.ts DATA VICTIM/NAME
 */
import { DEFAULT_LIMITS } from '../../src/server/config.js';
import { startServer } from '../../src/server/server.js';
import type { ImageRecord, Store } from '../../src/server/store/types.js';

const [dataDir, target] = process.argv.slice(2);
const [victim, name] = (target ?? '').split('/');
if (dataDir === undefined || victim === undefined || name === undefined)
  throw new Error('usage: hostile-serve DATA OWNER/NAME');

/** The image passed off as victim's: the first other image of that name. */
async function impostor(real: Store, viewer: string): Promise<ImageRecord | undefined> {
  const all = await real.listVisible(viewer, null, 200);
  return all.find((image) => image.name === name && image.owner !== victim);
}

function hostile(real: Store): Store {
  const swap = async (viewer: string, record: ImageRecord | undefined) => {
    if (record === undefined || record.owner !== victim || record.name !== name) return record;
    const other = await impostor(real, viewer);
    // The other's manifest and signature, filed as the victim's image.
    return other === undefined ? record : { ...other, id: record.id, owner: victim, name };
  };
  return {
    ...real,
    getVisible: async (viewer, id) => swap(viewer, await real.getVisible(viewer, id)),
    findVisible: async (viewer, owner, wanted) =>
      swap(viewer, await real.findVisible(viewer, owner, wanted)),
  };
}

const server = await startServer(
  {
    dataDir,
    host: '127.0.0.1',
    port: 0,
    tlsNames: [],
    limits: DEFAULT_LIMITS,
    logToStdout: false,
    logLevel: 'info',
  },
  { wrapStore: hostile },
);
process.stdout.write(`sisp serving ${server.url} (data ${dataDir}) hostile\n`);
const stop = (): void => {
  void server.stop().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
