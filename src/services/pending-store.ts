// The TUI's store while its live session is set up (loading the sources, finding kube-proxy and the
// namespaces: about half a second): the first frame shows what is starting instead of waiting, and
// once the session runs every read, subscription and command goes to it.
import type { Diagnosis } from '../model/diagnosis.js';
import type {
  ApplyPreview,
  SessionCommand,
  SessionSnapshot,
  SessionStore,
  SourceHealth,
} from '../model/session.js';

const EMPTY: Diagnosis = { at: 0, findings: [], predictions: [], suggestions: [], flows: [] };

function starting(id: string): SourceHealth {
  return { id, state: 'starting', records: 0, rate: 0, lost: 0 };
}

/**
 * What the first frame shows: the sources every live session starts first (the probes, when any,
 * and the conntrack event stream), each still starting; no flow and no finding seen yet.
 */
export function startingSnapshot(o: { probes: boolean; record?: string }): SessionSnapshot {
  return {
    mode: 'live',
    diagnosis: EMPTY,
    feed: [],
    sources: [...(o.probes ? [starting('bpftrace')] : []), starting('conntrack:events')],
    ...(o.record ? { recording: { path: o.record, records: 0 } } : {}),
    missing: [],
    paused: false,
    applied: [],
    issues: 0,
  };
}

/** A SessionStore that shows `first` until `attach` gives it the session. */
export class PendingStore implements SessionStore {
  private target: SessionStore | undefined;
  private readonly listeners = new Map<() => void, (() => void) | undefined>();
  /** What is shown until then; a pause asked for meanwhile is carried over to the session. */
  private shown: SessionSnapshot;

  constructor(first: SessionSnapshot) {
    this.shown = first;
  }

  getSnapshot(): SessionSnapshot {
    return this.target ? this.target.getSnapshot() : this.shown;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.set(listener, this.target?.subscribe(listener));
    return () => {
      this.listeners.get(listener)?.();
      this.listeners.delete(listener);
    };
  }

  dispatch(command: SessionCommand): void {
    if (this.target) return this.target.dispatch(command);
    if (command.type !== 'pause' && command.type !== 'resume') return;
    this.shown = { ...this.shown, paused: command.type === 'pause' };
    for (const l of [...this.listeners.keys()]) l();
  }

  planApply(suggestion: string): Promise<ApplyPreview> {
    const plan = this.target?.planApply?.bind(this.target);
    return plan
      ? plan(suggestion)
      : Promise.reject(new Error('the live session is still starting'));
  }

  /** Hands every reader and command over to `store` (the running session). */
  attach(store: SessionStore): void {
    this.target = store;
    if (this.shown.paused) store.dispatch({ type: 'pause' });
    for (const l of [...this.listeners.keys()]) this.listeners.set(l, store.subscribe(l));
    for (const l of [...this.listeners.keys()]) l();
  }
}
