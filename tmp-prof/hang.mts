import { unwrapContentKey, wrapContentKey } from '../src/crypto/hpke.js';
import { generateIdentity, publicIdentity } from '../src/crypto/keys.js';
import { nodeHpke } from '../src/node/hpke.js';
const bob = await generateIdentity();
const pub = await publicIdentity(bob);
const key = new Uint8Array(32).fill(3); const id = new Uint8Array(16);
const which = process.argv[2];
let count = 0;
const timer = setInterval(() => console.log(which, 'count', count), 1000);
const deadline = performance.now() + 3000;
const wrapped = await wrapContentKey(key, pub.encryptionKey, id, 'bob');
while (performance.now() < deadline) {
  if (which === 'wrapWeb') await wrapContentKey(key, pub.encryptionKey, id, 'bob');
  if (which === 'wrapNode') await wrapContentKey(key, pub.encryptionKey, id, 'bob', { suite: nodeHpke });
  if (which === 'unwrapWeb') await unwrapContentKey(wrapped, bob.encryption.privateKey, id, 'bob');
  if (which === 'unwrapNode') await unwrapContentKey(wrapped, bob.encryption.privateKey, id, 'bob', { suite: nodeHpke });
  count++;
}
clearInterval(timer);
console.log(which, 'done', count);
