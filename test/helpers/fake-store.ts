// An in-memory SessionStore for UI tests: holds one snapshot, records dispatched commands.
import type {
  ApplyPreview,
  SessionCommand,
  SessionSnapshot,
  SessionStore,
} from '../../src/model/session.js';

export interface FakeStore extends SessionStore {
  /** Replaces the snapshot and notifies subscribers. */
  set(next: SessionSnapshot): void;
  /** Every command dispatched, in order. */
  readonly commands: SessionCommand[];
  listenerCount(): number;
}

/** Makes a store whose snapshot only changes through set(). */
export function createFakeStore(
  initial: SessionSnapshot,
  planApply?: (suggestion: string) => Promise<ApplyPreview>,
): FakeStore {
  let snapshot = initial;
  const listeners = new Set<() => void>();
  const commands: SessionCommand[] = [];
  return {
    getSnapshot: () => snapshot,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    dispatch(command) {
      commands.push(command);
    },
    set(next) {
      snapshot = next;
      for (const l of [...listeners]) l();
    },
    commands,
    listenerCount: () => listeners.size,
    ...(planApply ? { planApply } : {}),
  };
}
