import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { RecentKeys } from '../../src/crypto/recent-keys.js';

const key = (n: number) => Uint8Array.of(n, 1, 2, 3);

describe('RecentKeys', () => {
  it('imports a key once, and again only after it is pushed out', async () => {
    const loads: number[] = [];
    const keys = new RecentKeys((raw) => {
      loads.push(raw[0] ?? -1);
      return Promise.resolve({ raw } as unknown as CryptoKey);
    }, 2);
    const first = await keys.get(key(1));
    assert.equal(await keys.get(key(1)), first);
    await keys.get(key(2));
    await keys.get(key(3)); // pushes out key 1, the oldest
    await keys.get(key(1));
    assert.deepEqual(loads, [1, 2, 3, 1]);
  });

  it('keeps no refusal: the next call tries again', async () => {
    let calls = 0;
    const keys = new RecentKeys(() => {
      calls++;
      return calls === 1
        ? Promise.reject(new Error('refused'))
        : Promise.resolve({} as unknown as CryptoKey);
    });
    await assert.rejects(keys.get(key(9)), /refused/);
    await keys.get(key(9));
    assert.equal(calls, 2);
  });
});
