/** `npm run vectors`: prints docs/PROTOCOL.md's test vectors, as the document shows them. */
import { docVectors } from '../protocol/doc-vectors.js';

for (const [name, hex] of Object.entries(await docVectors())) {
  console.log(`\`\`\`hex vector=${name}\n${hex.replace(/(.{64})/g, '$1\n').trim()}\n\`\`\`\n`);
}
