/**
 * One process of the small-image benchmark: `clients` SDK clients of its own, posting
 * (or downloading) in a loop until the deadline; prints how many it completed.
 * Several of these run at once so that client-side work (HPKE wraps, signatures,
 * image checks) is spread over processes, as it is for real users.
 */
import { join } from 'node:path';
import { FileSink } from '../src/client/file-sink.js';
import { Home } from '../src/client/home.js';
import { postFile } from '../src/cli/commands.js';
import { connect, login } from '../src/cli/context.js';
import type { SispClient } from '../src/core/client.js';
import { downloadImage } from '../src/core/download.js';

const [url, caFile, base, prefix, clientsText, mode, image, tag = ''] = process.argv.slice(2);
if (
  url === undefined ||
  caFile === undefined ||
  base === undefined ||
  prefix === undefined ||
  image === undefined
) {
  throw new Error('usage: small-worker URL CA BASE PREFIX CLIENTS post|download IMAGE [TAG]');
}
// Narrowed copies for use inside functions.
const settings = { url, caFile, base, prefix, image };
const count = Number(clientsText);

async function client(index: number): Promise<SispClient> {
  const name = `${settings.prefix}${index}`;
  const options = {
    home: new Home(join(settings.base, name)),
    server: settings.url,
    caFile: settings.caFile,
  };
  if (await options.home.hasIdentity()) return login(options);
  const connected = await connect(options);
  await connected.register(name);
  return connected;
}

const clients = await Promise.all(Array.from({ length: count }, (_, i) => client(i)));
process.stdout.write('ready\n');
// The parent's go signal carries the deadline, so that all processes start and stop together.
const deadline = await new Promise<number>((resolve) =>
  process.stdin.once('data', (data: Buffer) => {
    resolve(Number(data.toString().trim()));
  }),
);
const counts = await Promise.all(
  clients.map(async (connected, i) => {
    let n = 0;
    while (Date.now() < deadline) {
      if (mode === 'post') await postFile(connected, { name: `${tag}s${i}-${n}`, path: image });
      else
        await downloadImage(
          connected,
          { owner: `${prefix}${i}`, name: `${tag}s${i}-${n % 20}` },
          new FileSink(join(base, 'out', `${prefix}${i}`), { replace: true }),
        );
      n++;
    }
    return n;
  }),
);
for (const connected of clients) connected.close();
process.stdout.write(`${JSON.stringify({ done: counts.reduce((a, b) => a + b, 0) })}\n`);
