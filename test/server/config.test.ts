import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { DEFAULT_LIMITS, limitsFromEnv, parsePort } from '../../src/server/config.js';
import { RateLimiter } from '../../src/server/rate-limit.js';
import { isSispError } from '../../src/protocol/errors.js';

describe('server configuration', () => {
  it('limits default safely and are overridden by environment variables', () => {
    assert.deepEqual(limitsFromEnv({}), DEFAULT_LIMITS);
    assert.equal(DEFAULT_LIMITS.maxImage, 1024 ** 3);
    const limits = limitsFromEnv({ SISP_MAX_IMAGE: '1000', SISP_RATE: '5' });
    assert.equal(limits.maxImage, 1000);
    assert.equal(limits.requestsPerSecond, 5);
  });

  it('refuses nonsense values by name', () => {
    for (const env of [
      { SISP_MAX_IMAGE: '-1' },
      { SISP_MAX_IMAGE: '1e9' },
      { SISP_RATE: 'lots' },
      { SISP_MAX_FRAME: '100' },
    ]) {
      assert.throws(
        () => limitsFromEnv(env),
        (e) => isSispError(e, 'E_BAD_REQUEST'),
      );
    }
    assert.equal(parsePort('8443'), 8443);
    assert.throws(() => parsePort('70000'));
    assert.throws(() => parsePort('http'));
  });

  it('rate limiter: a burst, then the sustained rate', () => {
    const limiter = new RateLimiter(10, 3);
    const now = 1_000_000;
    assert.deepEqual(
      [1, 2, 3, 4].map(() => limiter.take('alice', now)),
      [true, true, true, false],
    );
    assert.equal(limiter.take('bob', now), true, 'buckets are per user');
    assert.equal(limiter.take('alice', now + 100), true, '100 ms at 10/s refills one token');
    assert.equal(limiter.take('alice', now + 100), false);
    // A costly request takes several tokens at once, or none.
    const costly = new RateLimiter(10, 25);
    assert.equal(costly.take('carol', now, 25), true, 'a page of 100 thumbnails');
    assert.equal(costly.take('carol', now + 500, 25), false, 'only 5 tokens back after 500 ms');
    assert.equal(costly.take('carol', now + 500, 5), true);
  });
});
