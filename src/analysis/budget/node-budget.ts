// The node's timeout budget from configuration alone: sysctls per netns, IPVS timeouts, what
// kube-proxy intends and a path idle timer, compared pairwise. No flows are involved, so each
// mismatch says what would happen to an idle flow, not which flow it happens to.
import { InputError } from '../../errors.js';

/** A configured number and where it came from; `read: false` means a kernel default kdiag did not read. */
export interface BudgetValue {
  readonly value: number;
  readonly source: string;
  readonly read: boolean;
}

/** The sysctls of one network namespace ("host", a pod, a named netns). Missing means not read. */
export interface NetnsSysctls {
  readonly netns: string;
  readonly keepaliveTime?: BudgetValue;
  readonly ctEstablished?: BudgetValue;
  readonly ctCloseWait?: BudgetValue;
}

export interface NodeBudgetInput {
  readonly host: NetnsSysctls;
  readonly netns: readonly NetnsSysctls[];
  /** `ipvsadm -Ln --timeout` (tcp tcpfin udp), when the node runs IPVS. */
  readonly ipvs?: {
    readonly tcp: BudgetValue;
    readonly tcpfin: BudgetValue;
    readonly udp: BudgetValue;
  };
  /** kube-proxy's conntrack settings; its defaults are 86400 s and 3600 s. */
  readonly kubeProxy?: {
    readonly tcpEstablishedTimeout?: BudgetValue;
    readonly tcpCloseWaitTimeout?: BudgetValue;
  };
  /** An idle timer on the path (cloud NAT, load balancer). */
  readonly pathIdle?: BudgetValue & { readonly name: string };
}

export type MismatchCode =
  | 'ipvs-below-keepalive'
  | 'ct-established-below-keepalive'
  | 'ct-established-below-kube-proxy'
  | 'ct-close-wait-below-kube-proxy'
  | 'keepalive-not-in-netns'
  | 'path-idle-below-keepalive';

export interface BudgetSide {
  readonly what: string;
  readonly value: number;
  readonly source: string;
  readonly read: boolean;
}

export interface BudgetMismatch {
  readonly code: MismatchCode;
  readonly netns: string;
  /** The value that is too short (or that differs), then the value it is measured against. */
  readonly short: BudgetSide;
  readonly against: BudgetSide;
  /** Both values were read (not kernel defaults assumed). */
  readonly read: boolean;
  readonly text: string;
  readonly note: string;
}

export const NO_FLOWS_NOTE = 'no flows in the input, so no per-flow prediction';

/** Kernel defaults, used only when a value was not read: init values in tcp_sk_init and nf_conntrack_proto_tcp.c. */
export const KERNEL_DEFAULTS = {
  keepaliveTime: 7200,
  ctEstablished: 432000,
  ctCloseWait: 60,
} as const;

/** kube-proxy's defaults for conntrack.tcpEstablishedTimeout and tcpCloseWaitTimeout. */
export const KUBE_PROXY_DEFAULTS = {
  tcpEstablishedTimeout: 86400,
  tcpCloseWaitTimeout: 3600,
} as const;

/** A kernel default stood in for a sysctl that was not read. */
export function kernelDefault(value: number, sysctl: string): BudgetValue {
  return { value, source: `kernel default of ${sysctl} (not read)`, read: false };
}

/** Compares the node's configured timeouts and lists each mismatch, read values first. */
export function nodeBudget(input: NodeBudgetInput): BudgetMismatch[] {
  check(input);
  const out: BudgetMismatch[] = [];
  const hostKa = keepalive(input.host);
  const all = [input.host, ...input.netns];
  for (const ns of all) {
    const ka = ns === input.host ? hostKa : keepalive(ns);
    const kaSide = side('keepalive time', ka);
    if (input.ipvs && input.ipvs.tcp.value < ka.value) {
      out.push(
        mk(
          'ipvs-below-keepalive',
          ns.netns,
          side('IPVS tcp timeout', input.ipvs.tcp),
          kaSide,
          `IPVS forgets an idle TCP connection after ${input.ipvs.tcp.value} s, before the first keepalive probe of netns ${ns.netns} at ${ka.value} s`,
        ),
      );
    }
    const ct = established(input.host);
    if (ct.value < ka.value) {
      out.push(
        mk(
          'ct-established-below-keepalive',
          ns.netns,
          side('conntrack ESTABLISHED timeout (host)', ct),
          kaSide,
          `the host's conntrack forgets an idle ESTABLISHED flow after ${ct.value} s, before the first keepalive probe of netns ${ns.netns} at ${ka.value} s`,
        ),
      );
    }
    if (input.pathIdle && input.pathIdle.value < ka.value) {
      out.push(
        mk(
          'path-idle-below-keepalive',
          ns.netns,
          side(`${input.pathIdle.name} idle timeout`, input.pathIdle),
          kaSide,
          `${input.pathIdle.name} forgets an idle flow after ${input.pathIdle.value} s, before the first keepalive probe of netns ${ns.netns} at ${ka.value} s`,
        ),
      );
    }
    // A netns that still holds the compiled-in default while the host does not never saw the node's
    // change (tcp_sk_init); any other value was set for the netns on purpose.
    if (
      ns !== input.host &&
      ka.value !== hostKa.value &&
      ka.value === KERNEL_DEFAULTS.keepaliveTime
    ) {
      out.push(
        mk(
          'keepalive-not-in-netns',
          ns.netns,
          side(`keepalive time (netns ${ns.netns})`, ka),
          side('keepalive time (host)', hostKa),
          `netns ${ns.netns} holds tcp_keepalive_time ${ka.value} s, the host ${hostKa.value} s: a node keepalive change does not reach an existing netns`,
        ),
      );
    }
  }
  const kp = input.kubeProxy;
  const ct = established(input.host);
  const kpEst = kp?.tcpEstablishedTimeout;
  if (kpEst && kpEst.value > 0 && ct.value < kpEst.value) {
    out.push(
      mk(
        'ct-established-below-kube-proxy',
        input.host.netns,
        side('conntrack ESTABLISHED timeout (host)', ct),
        side('kube-proxy tcpEstablishedTimeout', kpEst),
        `the host's conntrack ESTABLISHED timeout is ${ct.value} s, below the ${kpEst.value} s kube-proxy intends`,
      ),
    );
  }
  if (kp) {
    const cw =
      input.host.ctCloseWait ??
      kernelDefault(
        KERNEL_DEFAULTS.ctCloseWait,
        'net.netfilter.nf_conntrack_tcp_timeout_close_wait',
      );
    const kpCw = kp.tcpCloseWaitTimeout ?? {
      value: KUBE_PROXY_DEFAULTS.tcpCloseWaitTimeout,
      source: 'kube-proxy default tcpCloseWaitTimeout',
      read: false,
    };
    if (kpCw.value > 0 && cw.value < kpCw.value) {
      out.push(
        mk(
          'ct-close-wait-below-kube-proxy',
          input.host.netns,
          side('conntrack CLOSE_WAIT timeout (host)', cw),
          side('kube-proxy tcpCloseWaitTimeout', kpCw),
          `the host's conntrack CLOSE_WAIT timeout is ${cw.value} s, shorter than kube-proxy's ${kpCw.value} s: a half-closed flow is forgotten while one side still sends`,
        ),
      );
    }
  }
  // A mismatch built on an assumed default never outranks one built on values that were read.
  return out
    .map((m, i) => ({ m, i }))
    .sort((a, b) => Number(b.m.read) - Number(a.m.read) || a.i - b.i)
    .map((x) => x.m);
}

function keepalive(ns: NetnsSysctls): BudgetValue {
  return (
    ns.keepaliveTime ?? kernelDefault(KERNEL_DEFAULTS.keepaliveTime, 'net.ipv4.tcp_keepalive_time')
  );
}

function established(ns: NetnsSysctls): BudgetValue {
  return (
    ns.ctEstablished ??
    kernelDefault(
      KERNEL_DEFAULTS.ctEstablished,
      'net.netfilter.nf_conntrack_tcp_timeout_established',
    )
  );
}

function side(what: string, v: BudgetValue): BudgetSide {
  return { what, value: v.value, source: v.source, read: v.read };
}

function mk(
  code: MismatchCode,
  netns: string,
  short: BudgetSide,
  against: BudgetSide,
  text: string,
): BudgetMismatch {
  return {
    code,
    netns,
    short,
    against,
    read: short.read && against.read,
    text,
    note: NO_FLOWS_NOTE,
  };
}

function check(input: NodeBudgetInput): void {
  const values: [string, BudgetValue | undefined][] = [];
  for (const ns of [input.host, ...input.netns]) {
    values.push(
      [`${ns.netns} keepalive time`, ns.keepaliveTime],
      [`${ns.netns} ESTABLISHED timeout`, ns.ctEstablished],
      [`${ns.netns} CLOSE_WAIT timeout`, ns.ctCloseWait],
    );
  }
  if (input.ipvs)
    values.push(
      ['IPVS tcp', input.ipvs.tcp],
      ['IPVS tcpfin', input.ipvs.tcpfin],
      ['IPVS udp', input.ipvs.udp],
    );
  values.push(
    ['kube-proxy tcpEstablishedTimeout', input.kubeProxy?.tcpEstablishedTimeout],
    ['kube-proxy tcpCloseWaitTimeout', input.kubeProxy?.tcpCloseWaitTimeout],
  );
  values.push([input.pathIdle?.name ?? 'path idle', input.pathIdle]);
  for (const [what, v] of values) {
    if (v !== undefined && !(Number.isFinite(v.value) && v.value >= 0))
      throw new InputError(
        'node budget',
        undefined,
        `${what} ${v.value} is not a number of seconds`,
      );
  }
}
