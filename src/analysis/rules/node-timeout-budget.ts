// Issue 19 item 6: the node's timeout budget from configuration alone (sysctls per netns, `ipvsadm
// --timeout`, kube-proxy, --cloud/--path-idle-timeout), so a bundle of settings without a single
// flow still shows a mismatch. With flows in the input the per-flow rules judge each flow by its
// own keepalive (conntrack/IPVS/path *-shorter-than-keepalive, kube-proxy.drift): repeating their
// comparisons from configuration would duplicate them (and fire on nodes whose sockets set their own
// keepalive), so only what no per-flow rule says is kept then: a node keepalive change that never
// reached a netns.
import type { Evidence } from '../../model/diagnosis.js';
import { CLOUD_PRESETS } from '../../model/cloud-presets.js';
import { CT_TCP_TIMEOUTS, KA_INTVL, KA_PROBES, KA_TIME } from '../../model/kernel-defaults.js';
import {
  type BudgetMismatch,
  type BudgetValue,
  type MismatchCode,
  type NetnsSysctls,
  KUBE_PROXY_DEFAULTS,
  NO_FLOWS_NOTE,
  nodeBudget,
} from '../budget/node-budget.js';
import { sysctlInForce } from '../path/context.js';
import type { SuggestNeed } from '../needs.js';
import type { Draft, Rule, RuleContext } from '../rule.js';
import { evidence, makeDraft } from '../rule.js';

const EST = CT_TCP_TIMEOUTS.ESTABLISHED ?? {
  sysctl: 'net.netfilter.nf_conntrack_tcp_timeout_established',
  kernel: 432000,
};
const CW = CT_TCP_TIMEOUTS.CLOSE_WAIT ?? {
  sysctl: 'net.netfilter.nf_conntrack_tcp_timeout_close_wait',
  kernel: 60,
};
const HOST = 'host';

const TITLES: Record<MismatchCode, string> = {
  'ipvs-below-keepalive':
    'IPVS forgets idle connections before the keepalive time configured on the node',
  'ct-established-below-keepalive':
    'Conntrack forgets idle flows before the keepalive time configured on the node',
  'ct-established-below-kube-proxy':
    "Conntrack's ESTABLISHED timeout is below what kube-proxy intends",
  'ct-close-wait-below-kube-proxy':
    "Conntrack's CLOSE_WAIT timeout is shorter than kube-proxy's default",
  'keepalive-not-in-netns': "A netns never received the node's keepalive change",
  'path-idle-below-keepalive':
    'An idle timer on the path forgets flows before the keepalive time configured on the node',
};

/** Comparisons a per-flow rule makes for every flow it sees: dropped when the input has flows. */
const PER_FLOW: ReadonlySet<MismatchCode> = new Set([
  'ipvs-below-keepalive',
  'ct-established-below-keepalive',
  'path-idle-below-keepalive',
  'ct-close-wait-below-kube-proxy',
]);

export const nodeTimeoutBudget: Rule = {
  code: 'node.timeout-budget',
  fm: 'FM-1',
  run(ctx) {
    const evs = new Map<string, Evidence>();
    const read = (key: string, scope: string | undefined): BudgetValue | undefined => {
      const v = ctx.table.sysctl(key, scope);
      const n = v ? Number(v.value) : NaN;
      if (!v || !Number.isFinite(n)) return undefined;
      const source = `sysctl ${key}${scope ? ` (netns ${scope})` : ''}`;
      evs.set(source, evidence(v.t, v.src, `${key} = ${v.value}`));
      return { value: n, source, read: true };
    };
    const scopes = ctx.table
      .sysctlScopes()
      .filter((s) => s !== '')
      .sort();
    const netnsOf = (scope: string | undefined): NetnsSysctls => {
      const ka = read(KA_TIME.sysctl, scope);
      const est = scope === undefined ? read(EST.sysctl, scope) : undefined;
      const cw = scope === undefined ? read(CW.sysctl, scope) : undefined;
      return {
        netns: scope ?? HOST,
        ...(ka ? { keepaliveTime: ka } : {}),
        ...(est ? { ctEstablished: est } : {}),
        ...(cw ? { ctCloseWait: cw } : {}),
      };
    };
    const host = netnsOf(undefined);
    // Nothing configured was read: there is no budget to judge (a recording of events only).
    if (
      !host.keepaliveTime &&
      !host.ctEstablished &&
      scopes.length === 0 &&
      !ctx.table.ipvsTimeouts
    )
      return [];
    const mode = ctx.path.mode;
    const it = mode === undefined || mode === 'ipvs' ? ctx.table.ipvsTimeouts : undefined;
    let ipvs: { tcp: BudgetValue; tcpfin: BudgetValue; udp: BudgetValue } | undefined;
    if (it) {
      const source = 'ipvsadm -Ln --timeout';
      evs.set(
        source,
        evidence(
          it.t,
          it.src,
          it.raw ?? `Timeout (tcp tcpfin udp): ${it.value.tcp} ${it.value.tcpfin} ${it.value.udp}`,
        ),
      );
      ipvs = {
        tcp: { value: it.value.tcp, source, read: true },
        tcpfin: { value: it.value.tcpfin, source, read: true },
        udp: { value: it.value.udp, source, read: true },
      };
    }
    // kube-proxy.drift compares every value kube-proxy writes with the kernel's; what it cannot say
    // is that a 0 (leave the kernel alone) keeps the kernel's 60 s CLOSE_WAIT under kube-proxy's default.
    const kp = ctx.table.kubeProxy;
    let kubeProxy: { tcpCloseWaitTimeout: BudgetValue } | undefined;
    if (kp && kp.value.conntrack.tcpCloseWaitTimeout === 0 && host.ctCloseWait) {
      const source = `kube-proxy default tcpCloseWaitTimeout (configured 0s: kube-proxy leaves the kernel's value)`;
      evs.set(source, {
        ...evidence(kp.t, kp.src, kp.raw ?? `kube-proxy ${kp.value.origin}`),
        note: 'conntrack.tcpCloseWaitTimeout = 0',
      });
      kubeProxy = {
        tcpCloseWaitTimeout: { value: KUBE_PROXY_DEFAULTS.tcpCloseWaitTimeout, source, read: true },
      };
    }
    const pl = [...ctx.path.pathLayers].sort((a, b) => a.timeoutSec - b.timeoutSec)[0];
    const pathIdle = pl
      ? {
          name: pl.preset
            ? CLOUD_PRESETS[pl.preset].label.replace(/ idle timeout$/, '')
            : 'the path',
          value: pl.timeoutSec,
          source: pl.source,
          read: true,
        }
      : undefined;
    const mismatches = nodeBudget({
      host,
      netns: scopes.map(netnsOf),
      ...(ipvs ? { ipvs } : {}),
      ...(kubeProxy ? { kubeProxy } : {}),
      ...(pathIdle ? { pathIdle } : {}),
    });
    const noFlows = !hasFlows(ctx);
    const out: Draft[] = [];
    for (const m of mismatches) {
      if (!noFlows && PER_FLOW.has(m.code)) continue;
      const ev = [m.short.source, m.against.source]
        .map((s) => evs.get(s))
        .filter((e): e is Evidence => e !== undefined);
      const assumed = [m.short, m.against]
        .filter((s) => !s.read)
        .map((s) => `${s.what} is ${s.source}`);
      out.push(
        makeDraft({
          rule: 'node.timeout-budget',
          fm:
            m.code === 'ct-close-wait-below-kube-proxy'
              ? 'FM-4'
              : m.code === 'ipvs-below-keepalive'
                ? 'FM-2'
                : m.code === 'path-idle-below-keepalive'
                  ? 'FM-11'
                  : m.code === 'keepalive-not-in-netns'
                    ? 'FM-12'
                    : 'FM-1',
          subject: `${m.code}@${m.netns}`,
          severity: 'warning',
          confidence: m.read ? 'certain' : 'likely',
          title: TITLES[m.code],
          cause: `From the configuration: ${m.text}${assumed.length > 0 ? ` (${assumed.join('; ')})` : ''}.${noFlows ? ` ${cap(NO_FLOWS_NOTE)}.` : ''}`,
          flows: [],
          evidence: ev,
          needs: needsOf(ctx, m),
          t: ev.reduce((a, e) => Math.max(a, e.t), 0) || ctx.now,
        }),
      );
    }
    return out;
  },
};

function hasFlows(ctx: RuleContext): boolean {
  for (const _ of ctx.table.flows()) return true;
  return false;
}

/** What fixes a mismatch: the same needs the per-flow rules give, with the netns named. */
function needsOf(ctx: RuleContext, m: BudgetMismatch): SuggestNeed[] {
  const scope = m.netns === HOST ? undefined : m.netns;
  // The keepalive of the netns plus its unanswered probes: a raised timer must outlast them.
  const span =
    m.against.value +
    sysctlInForce(ctx.path, KA_INTVL, scope).value *
      sysctlInForce(ctx.path, KA_PROBES, scope).value;
  const keepalive = (budgetSec: number): SuggestNeed[] => [
    { kind: 'keepalive', paths: [], budgetSec },
    { kind: 'netns-keepalive', netns: scope, budgetSec },
  ];
  switch (m.code) {
    case 'ipvs-below-keepalive':
      return [...keepalive(m.short.value), { kind: 'ipvs-tcp', aboveSec: span }];
    case 'ct-established-below-keepalive':
      return [...keepalive(m.short.value), { kind: 'conntrack-established', aboveSec: span }];
    case 'path-idle-below-keepalive':
      return [...keepalive(m.short.value), { kind: 'external-timeout', idleSec: span }];
    case 'keepalive-not-in-netns':
      return m.against.value < m.short.value
        ? [
            {
              kind: 'netns-keepalive',
              netns: scope,
              budgetSec: m.short.value,
              idleSec: m.against.value,
            },
          ]
        : [];
    case 'ct-close-wait-below-kube-proxy':
      return [{ kind: 'conntrack-close-wait', aboveSec: m.against.value - 1 }];
    case 'ct-established-below-kube-proxy':
      return [{ kind: 'kube-proxy-sysctl', key: EST.sysctl, value: m.against.value }];
  }
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
