// The shapes a scenario works with: its definition, what it returns, what the lab reports.
import type { BackendName } from '../topology.js';
import type { Ctx } from './context.js';

/** What an application (or its kernel) ended up with. */
export type AppOutcome =
  | 'ok' // data echoed back / connection still usable
  | 'ECONNRESET'
  | 'ETIMEDOUT'
  | 'EPIPE'
  | 'fin-lost' // our FIN never reached the peer: it stays in FIN_WAIT2, we in LAST_ACK
  | 'no-reply' // nothing came back within the scenario's bound, no error either
  | 'skipped'
  | `error:${string}`;

export interface FlowTuple {
  readonly src: string;
  readonly sport: number;
  readonly dst: string;
  readonly dport: number;
}

export interface ScenarioResult {
  readonly scenario: string;
  readonly fm: string;
  readonly title: string;
  /** The client's tuple to the Service VIP (as the node's conntrack original direction shows it). */
  readonly clientTuple: FlowTuple | undefined;
  readonly vip: string;
  /** Backend picked at connect time, and the one the conntrack pickup re-DNAT'd to (if any). */
  readonly backendBefore: string | undefined;
  readonly backendAfter: string | undefined;
  readonly outcome: { readonly client: AppOutcome; readonly server?: AppOutcome };
  readonly expected: { readonly client: AppOutcome; readonly server?: AppOutcome };
  readonly matched: boolean;
  /** One line for people: what happened. */
  readonly summary: string;
  /** Knobs the scenario set (namespace → key → value). */
  readonly settings: Record<string, Record<string, string | number | boolean>>;
  /** Wall-clock ms of the key moments. */
  readonly timestamps: {
    readonly start: number;
    readonly ready: number;
    readonly connected?: number;
    readonly idleStart?: number;
    readonly expiryExpected?: number;
    readonly actionAt?: number;
    readonly failureObserved?: number;
    readonly end: number;
  };
  readonly idleMs: number | undefined;
  /** Raw `conntrack -E -o timestamp -p tcp` lines from the node namespace during the scenario. */
  readonly conntrackEvents: string[];
  /** `conntrack -S` of the node, summed over CPUs, before traffic and at the end. */
  readonly conntrackStats: {
    readonly before: Record<string, number>;
    readonly after: Record<string, number>;
  };
  /** Extra evidence: rule counters, `ss` lines, table sizes. */
  readonly notes: string[];
}

/** What a scenario's run() found; runScenario adds the rest of the ScenarioResult. */
export interface RunOutput {
  readonly outcome: ScenarioResult['outcome'];
  readonly flow?: Flow;
  readonly idleMs?: number | undefined;
  readonly backendAfter?: string | undefined;
}

/** A scenario: the kernel knobs it sets, what the applications should see, and its steps. */
export interface ScenarioDef {
  readonly id: string;
  readonly fm: string;
  readonly title: string;
  /** INVALID DROP rule wanted (undefined: leave the lab's setting). */
  readonly dropInvalid?: boolean;
  readonly expected: { client: AppOutcome; server?: AppOutcome };
  /** Extra `conntrack -E` filters (the table-fill scenario keeps the capture to the client). */
  readonly ctFilter?: readonly string[];
  readonly settings: Record<string, Record<string, string | number>>;
  run(ctx: Ctx): Promise<RunOutput>;
}

/** The client's connection to the VIP and the backend connection that accepted it. */
export interface Flow {
  readonly conn: number;
  readonly tuple: FlowTuple;
  readonly backend: BackendName;
  readonly serverConn: number;
}
