import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CreditWindow } from '../../src/protocol/credit-window.js';
import { isSispError, sispError } from '../../src/protocol/errors.js';
import { numRuns } from '../properties.js';

describe('CreditWindow', () => {
  it('receiver: the first grant is the window, or the whole transfer if smaller', () => {
    assert.equal(new CreditWindow({ window: 1000 }).initial(), 1000);
    assert.equal(new CreditWindow({ window: 1000, total: 300 }).initial(), 300);
    // An empty transfer still gets a grant the schema accepts (credit >= 1).
    assert.equal(new CreditWindow({ window: 1000, total: 0 }).initial(), 1);
  });

  it('receiver: data beyond the credit is refused, at the exact byte', () => {
    const window = new CreditWindow({ window: 100 });
    window.initial();
    assert.equal(window.admit(99), true);
    assert.equal(window.admit(1), true);
    assert.equal(window.admit(1), false);
  });

  it('receiver: credit goes back in batches of half a window, never past the total', () => {
    const window = new CreditWindow({ window: 100, total: 230 });
    window.initial();
    assert.equal(window.release(49), 0);
    assert.equal(window.release(1), 50);
    assert.equal(window.release(70), 70);
    // Granted 220 of 230: only 10 more can ever be granted.
    assert.equal(window.release(100), 10);
    assert.equal(window.release(100), 0);
  });

  it('sender: take() waits for credit and never hands out more than granted', async () => {
    const window = new CreditWindow({ window: 1 });
    window.grant(10);
    assert.equal(await window.take(7), 7);
    assert.equal(await window.take(7), 3);
    let taken = -1;
    const waiting = window.take(5).then((n) => (taken = n));
    await Promise.resolve();
    assert.equal(taken, -1);
    window.grant(2);
    await waiting;
    assert.equal(taken, 2);
  });

  it('sender: a failure wakes a waiting take() and every later one', async () => {
    const window = new CreditWindow({ window: 1 });
    const waiting = window.take(5);
    window.fail(sispError('E_NOT_FOUND'));
    await assert.rejects(waiting, (e) => isSispError(e, 'E_NOT_FOUND'));
    await assert.rejects(window.take(1), (e) => isSispError(e, 'E_NOT_FOUND'));
    assert.equal(window.failed, true);
  });

  it('property: a receiver admitting what a sender takes never exceeds its window', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 5000 }),
        fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 50 }),
        async (size, pieces) => {
          const receiver = new CreditWindow({ window: size });
          const sender = new CreditWindow({ window: 1 });
          sender.grant(receiver.initial());
          let held = 0;
          const drain = (): void => {
            // The receiver finishes with what it holds, and grants credit back.
            const grant = receiver.release(held);
            held = 0;
            if (grant > 0) sender.grant(grant);
          };
          for (const wanted of pieces) {
            if (sender.available === 0) drain();
            if (sender.available === 0) continue;
            const amount = await sender.take(wanted);
            assert.ok(receiver.admit(amount));
            held += amount;
            assert.ok(held <= size);
          }
        },
      ),
      { numRuns: numRuns(100) },
    );
  });
});
