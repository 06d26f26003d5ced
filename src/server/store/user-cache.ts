/**
 * Users as the store returns them, the most recent kept in memory: a user's record
 * never changes once created (the Store has no update or removal of users), and every
 * download asks for its owner's (and a public one for the reader's), every post for
 * its owner's. Only users found are kept, since a name not registered now may be
 * later. Safe with several nodes for the same reason; bounded.
 */
import type { Store, UserRecord } from './types.js';

const USERS_KEPT = 4096;

/** Callers get their own copy, as from the store itself. */
function copy(user: UserRecord): UserRecord {
  return {
    ...user,
    signingKey: user.signingKey.slice(),
    encryptionKey: user.encryptionKey.slice(),
    certificate: user.certificate.slice(),
  };
}

export function withUserCache(store: Store, size = USERS_KEPT): Store {
  const users = new Map<string, UserRecord>();
  const getUser = async (username: string): Promise<UserRecord | undefined> => {
    const kept = users.get(username);
    if (kept !== undefined) return copy(kept);
    const user = await store.getUser(username);
    if (user === undefined) return undefined;
    if (users.size >= size) {
      const oldest = users.keys().next();
      if (oldest.done !== true) users.delete(oldest.value);
    }
    users.set(username, copy(user));
    return user;
  };
  return new Proxy(store, {
    get(target, property) {
      if (property === 'getUser') return getUser;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
    },
  });
}
