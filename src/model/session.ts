// The state a running session exposes to the TUI and the streaming report (types only).
import type { Diagnosis } from './diagnosis.js';

/** One line of the drops/resets feed, with its cause when a finding explains it. */
export interface FeedItem {
  readonly t: number;
  readonly kind: 'drop' | 'reset' | 'conntrack' | 'retransmit' | 'keepalive' | 'info';
  /** One line for a person: `RST sent 10.0.0.2:8080 > 10.0.0.1:56942 NO_SOCKET`. */
  readonly text: string;
  readonly flow?: string;
  /** The finding that explains it, when one does. */
  readonly finding?: string;
  readonly src: string;
}

export interface SourceHealth {
  readonly id: string;
  readonly state: 'starting' | 'running' | 'done' | 'failed' | 'unavailable';
  readonly records: number;
  /** Records per second over the last few seconds. */
  readonly rate: number;
  /** Events the source reported lost (conntrack ENOBUFS, bpftrace lost events). */
  readonly lost: number;
  readonly message?: string;
}

export interface ReplayPosition {
  readonly start: number;
  readonly end: number;
  readonly at: number;
  readonly playing: boolean;
  readonly speed: number;
}

export interface AppliedChange {
  readonly journalId: string;
  readonly suggestion: string;
  readonly summary: string;
  readonly reverted: boolean;
}

export interface SessionSnapshot {
  readonly mode: 'live' | 'replay';
  readonly diagnosis: Diagnosis;
  readonly feed: readonly FeedItem[];
  readonly sources: readonly SourceHealth[];
  readonly recording?: { readonly path: string; readonly records: number };
  readonly replay?: ReplayPosition;
  /** What `kdiag doctor` found missing, one short phrase each. */
  readonly missing: readonly string[];
  readonly paused: boolean;
  readonly applied: readonly AppliedChange[];
  /** Parse issues so far. */
  readonly issues: number;
}

export type SessionCommand =
  | { readonly type: 'pause' }
  | { readonly type: 'resume' }
  | { readonly type: 'stop' }
  | { readonly type: 'play' }
  | { readonly type: 'seek'; readonly t: number }
  | { readonly type: 'speed'; readonly speed: number }
  | { readonly type: 'apply'; readonly suggestion: string }
  | { readonly type: 'revert'; readonly journalId: string };

/** A change planned for the confirmation dialog: what, where (name and identity), old → new. */
export interface ApplyPreview {
  readonly lines: readonly string[];
  readonly warnings: readonly string[];
}

export interface SessionStore {
  getSnapshot(): SessionSnapshot;
  subscribe(listener: () => void): () => void;
  dispatch(command: SessionCommand): void;
  /** Plans a suggestion's change for the dialog; `apply` then makes exactly that plan. Absent: no changes from here. */
  planApply?(suggestion: string): Promise<ApplyPreview>;
}
