import { LocalEventBus } from '../../src/server/events/local-event-bus.js';
import { eventBusConformance } from '../conformance/event-bus.js';

// One process: every "node" shares the one bus.
eventBusConformance('LocalEventBus', () => {
  const bus = new LocalEventBus();
  return Promise.resolve({ bus: () => Promise.resolve(bus), dispose: () => bus.close() });
});
