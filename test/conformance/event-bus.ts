/**
 * The EventBus conformance suite: what every implementation of the EventBus port
 * must do (in-process now; PostgreSQL LISTEN/NOTIFY runs the same). Delivery may be
 * asynchronous, so expectations wait (briefly) rather than assume it is immediate.
 */
import { strict as assert } from 'node:assert';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { EventBus, ImageEvent } from '../../src/server/events/types.js';

export interface EventBusFixture {
  /** A bus; a second call gives another handle on the same bus (another node). */
  bus(): Promise<EventBus>;
  dispose(): Promise<void>;
}

function event(
  n: number,
  notify: ImageEvent['notify'] = 'public',
  kind: ImageEvent['kind'] = n % 3 === 0 ? 'deleted' : 'new_image',
): ImageEvent {
  return {
    kind,
    image: new Uint8Array(16).fill(n),
    name: `image ${n}`,
    owner: 'alice',
    notify,
    position: n,
  };
}

async function eventually(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Long enough for anything in flight to have arrived. */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 200));

export function eventBusConformance(name: string, open: () => Promise<EventBusFixture>): void {
  describe(`EventBus conformance: ${name}`, () => {
    let fixture: EventBusFixture;
    beforeEach(async () => {
      fixture = await open();
    });
    afterEach(async () => {
      await fixture.dispose();
    });

    it('every subscriber gets every event, whole, in publish order', async () => {
      const bus = await fixture.bus();
      const a: ImageEvent[] = [];
      const b: ImageEvent[] = [];
      bus.subscribe((e) => a.push(e));
      bus.subscribe((e) => b.push(e));
      for (let n = 1; n <= 20; n++)
        await bus.publish(event(n, n % 2 === 0 ? ['alice', 'bob'] : 'public'));
      await eventually(() => a.length === 20 && b.length === 20, 'all 20 events to both');
      assert.deepEqual(
        a.map((e) => e.image[0]),
        Array.from({ length: 20 }, (_, i) => i + 1),
      );
      assert.deepEqual(a[1], event(2, ['alice', 'bob']));
      assert.deepEqual(b, a);
    });

    it('a subscriber that joins late gets only what is published after it joined', async () => {
      const bus = await fixture.bus();
      const early: ImageEvent[] = [];
      bus.subscribe((e) => early.push(e));
      await bus.publish(event(1));
      await eventually(() => early.length === 1, 'the first event');
      const late: ImageEvent[] = [];
      bus.subscribe((e) => late.push(e));
      await bus.publish(event(2));
      await eventually(() => late.length === 1 && early.length === 2, 'the second event');
      assert.equal(late[0]?.image[0], 2);
    });

    it('a subscriber that leaves gets nothing more; the others go on', async () => {
      const bus = await fixture.bus();
      const gone: ImageEvent[] = [];
      const stays: ImageEvent[] = [];
      const leave = bus.subscribe((e) => gone.push(e));
      bus.subscribe((e) => stays.push(e));
      await bus.publish(event(1));
      await eventually(() => gone.length === 1 && stays.length === 1, 'the first event');
      leave();
      leave();
      await bus.publish(event(2));
      await eventually(() => stays.length === 2, 'the second event');
      await settle();
      assert.equal(gone.length, 1);
    });

    it('a subscriber that throws does not keep the event from the others', async () => {
      const bus = await fixture.bus();
      const got: ImageEvent[] = [];
      bus.subscribe(() => {
        throw new Error('broken listener');
      });
      bus.subscribe((e) => got.push(e));
      await bus.publish(event(1));
      await eventually(() => got.length === 1, 'the event, despite the broken listener');
    });

    it('one handle per node: an event published on one reaches subscribers on the other', async () => {
      const one = await fixture.bus();
      const two = await fixture.bus();
      const got: ImageEvent[] = [];
      two.subscribe((e) => got.push(e));
      await one.publish(event(7, ['bob']));
      await eventually(() => got.length === 1, 'the event on the other handle');
      assert.deepEqual(got[0], event(7, ['bob']));
    });
  });
}
