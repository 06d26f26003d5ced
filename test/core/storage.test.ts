import { MemoryStorage } from '../../src/core/storage.js';
import { clientStorageConformance } from '../conformance/client-storage.js';

// Memory lasts as long as the object: reopening is handing back the same one.
clientStorageConformance('MemoryStorage', () => {
  const storage = new MemoryStorage();
  return Promise.resolve({
    storage,
    reopen: () => Promise.resolve(storage),
    dispose: () => Promise.resolve(),
  });
});
