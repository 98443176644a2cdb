// The inputs and results of the timer race (timer-race.ts): plain numbers with where each came from.

/** A number with the place it was read from ("conntrack -L timeout column", "ss -tinoe lastrcv"). */
export interface Sourced {
  readonly value: number;
  readonly source: string;
}

/** One layer on the path that forgets an idle flow: a conntrack entry, an IPVS connection, a NAT gateway. */
export interface RaceLayer {
  readonly name: string;
  /** Seconds left on the timer the layer holds now (the conntrack entry's own timer, IPVS expire). */
  readonly deadlineS: Sourced;
  /** The timeout the layer re-arms to on each packet of the flow. */
  readonly rearmS: Sourced;
}

/** One socket of the flow and the keepalive it holds. */
export interface RaceSocket {
  /** "client", "server", or a pod name: what the verdict calls it. */
  readonly side: string;
  readonly keepalive: boolean;
  /** TCP_KEEPIDLE, or its netns's net.ipv4.tcp_keepalive_time when the socket did not set it. */
  readonly keepIdleS: Sourced;
  /** TCP_KEEPINTVL, or its netns's net.ipv4.tcp_keepalive_intvl. */
  readonly keepIntvlS: Sourced;
  /** TCP_KEEPCNT, or its netns's net.ipv4.tcp_keepalive_probes. */
  readonly probes: Sourced;
  /** Seconds since the socket last received anything (what the kernel's keepalive timer measures). */
  readonly idleS: Sourced;
}

export interface RaceInput {
  readonly layers: readonly RaceLayer[];
  readonly sockets: readonly RaceSocket[];
}

/** A packet that re-arms every layer: a keepalive probe and its ACK, seconds from now. */
export interface Refresh {
  readonly atS: number;
  readonly side: string;
}

export type RaceVerdict =
  | {
      /** A layer's deadline comes at or before the refresh that would have re-armed it. */
      readonly kind: 'breaks';
      readonly layer: string;
      /** Seconds from now until the layer forgets the flow. */
      readonly inS: number;
      /** The refresh that came too late, if any keepalive runs. */
      readonly lateRefreshS: number | undefined;
      /** When each keepalive socket gives up after probes the forgotten flow no longer answers. */
      readonly socketsGiveUp: readonly { side: string; inS: number }[];
      readonly reason: string;
    }
  | {
      readonly kind: 'safe';
      /** The longest gap each layer can see between refreshes, and the smallest timeout it races. */
      readonly longestGapS: number;
      readonly reason: string;
    }
  | {
      /** Neither side probes: the flow lives only as long as it sends. */
      readonly kind: 'at-risk';
      readonly layer: string;
      /** The idle time at which the layer forgets the flow (its re-arm timeout). */
      readonly forgottenAfterIdleS: number;
      readonly idleS: number;
      readonly inS: number;
      readonly reason: string;
    }
  | {
      /** The two sides' probes interleave well enough now, but neither alone keeps the layer. */
      readonly kind: 'fragile';
      readonly layer: string;
      readonly reason: string;
    };

export interface RaceResult {
  readonly verdict: RaceVerdict;
  /** Refreshes in time order, as far as the race had to look. */
  readonly refreshes: readonly Refresh[];
  /** Each keepalive socket's period between probes once its probes are answered. */
  readonly periods: readonly { side: string; periodS: number; source: string }[];
}

/** A changed parameter for whatIf: what the socket or the layer would hold after the change. */
export type RaceChange =
  | {
      readonly kind: 'socket';
      readonly side: string;
      readonly keepalive?: boolean;
      readonly keepIdleS?: number;
      readonly keepIntvlS?: number;
      readonly probes?: number;
    }
  | {
      readonly kind: 'layer';
      readonly name: string;
      readonly rearmS: number;
      /**
       * A sysctl change re-arms nothing until the flow's next packet (lab: docs/kernel-timers.md);
       * `conntrack -U` on the exact tuple sets the entry's deadline now. Default false.
       */
      readonly appliesToExisting?: boolean;
    };
