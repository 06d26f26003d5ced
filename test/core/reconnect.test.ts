import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ReconnectSchedule } from '../../src/core/reconnect.js';
import { numRuns } from '../properties.js';

describe('reconnect schedule', () => {
  it('doubles from the first step to the cap, each delay jittered around its step', () => {
    const low = new ReconnectSchedule({ first: 250, max: 5000, random: () => 0 });
    assert.deepEqual(
      Array.from({ length: 7 }, () => low.next()),
      [125, 250, 500, 1000, 2000, 2500, 2500],
    );
    const high = new ReconnectSchedule({ first: 250, max: 5000, random: () => 0.999999 });
    assert.deepEqual(
      Array.from({ length: 7 }, () => high.next()),
      [375, 750, 1500, 3000, 6000, 7500, 7500],
    );
  });

  it('starts again from the first step once connected', () => {
    const schedule = new ReconnectSchedule({ first: 100, max: 1000, random: () => 0.5 });
    schedule.next();
    schedule.next();
    schedule.reset();
    assert.equal(schedule.next(), 100);
  });

  it('refuses steps that are not positive whole milliseconds, or a cap below the first', () => {
    for (const options of [{ first: 0 }, { first: -1 }, { first: 1.5 }, { first: 100, max: 99 }])
      assert.throws(() => new ReconnectSchedule(options), TypeError);
  });

  it('every delay lies within half and one and a half times its step, never above 1.5 x max', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.array(fc.double({ min: 0, max: 0.999999, noNaN: true }), { maxLength: 40 }),
        (first, extra, draws) => {
          const max = first + extra;
          let at = 0;
          const schedule = new ReconnectSchedule({ first, max, random: () => draws[at] ?? 0 });
          let step = first;
          for (; at < draws.length; at++) {
            const delay = schedule.next();
            assert.ok(delay >= Math.floor(step / 2) && delay <= Math.ceil(step * 1.5));
            step = Math.min(step * 2, max);
          }
        },
      ),
      { numRuns: numRuns(100) },
    );
  });
});
