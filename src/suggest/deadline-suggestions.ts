// Suggestions for needs that name no flow path: a netns's keepalive time (node budget findings) and
// `conntrack -U`, which moves the deadline entries already hold (a sysctl change reaches an entry only
// at its next packet, docs/kernel-timers.md b).
import type { Suggestion } from '../model/diagnosis.js';
import { type PathContext, sysctlInForce } from '../analysis/path/context.js';
import { fmtSec } from '../analysis/path/evidence.js';
import type { ConntrackTuple, SuggestNeed } from '../analysis/needs.js';
import { KA_INTVL, KA_PROBES } from '../model/kernel-defaults.js';
import { nodeSysctlCommands, podSysctlYaml } from './snippets.js';
import { type KeepalivePlan, keepalivePlan } from './values.js';
import { type Trial, budgetRace } from './race-check.js';

type Tagged = { readonly findingId: string; readonly need: SuggestNeed };
type Add = (s: Omit<Suggestion, 'rank'>, trial?: Trial) => void;

/** Per-tuple commands listed before the filter command gives way to them. */
const MAX_TUPLES = 5;

/** Adds the suggestions of the `netns-keepalive` and `conntrack-update` needs. */
export function deadlineSuggestions(all: readonly Tagged[], ctx: PathContext, add: Add): void {
  netnsKeepalive(all, ctx, add);
  conntrackUpdate(all, add);
}

function netnsKeepalive(all: readonly Tagged[], ctx: PathContext, add: Add): void {
  const byScope = new Map<string, { ids: string[]; budget: number; idle?: number }>();
  for (const x of all) {
    if (x.need.kind !== 'netns-keepalive') continue;
    const k = x.need.netns ?? '';
    const g = byScope.get(k) ?? { ids: [], budget: Infinity };
    g.ids.push(x.findingId);
    g.budget = Math.min(g.budget, x.need.budgetSec);
    if (x.need.idleSec !== undefined) g.idle = Math.min(g.idle ?? Infinity, x.need.idleSec);
    byScope.set(k, g);
  }
  const pods = [...byScope.keys()].filter((k) => k !== '').length;
  for (const [k, g] of [...byScope].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const scope = k === '' ? undefined : k;
    const cur = {
      intervalSec: sysctlInForce(ctx, KA_INTVL, scope).value,
      probes: sysctlInForce(ctx, KA_PROBES, scope).value,
    };
    const planned = keepalivePlan(g.budget, cur);
    // An exact value (the host's, for a netns that never got it) still has to stay under every budget.
    const plan: KeepalivePlan =
      g.idle !== undefined && g.idle <= planned.idleSec ? { ...planned, idleSec: g.idle } : planned;
    // The change sets the time only: with the interval in force, a probe must still come in time.
    const race = budgetRace(plan.budgetSec, {
      idleS: plan.idleSec,
      intvlS: cur.intervalSec,
      probes: cur.probes,
    });
    if (race.verdict.kind !== 'safe') continue;
    if (scope === undefined) {
      add(
        {
          id: 'node-keepalive-time',
          scope: 'node',
          title: `Lower the host netns tcp_keepalive_time to ${plan.idleSec} s`,
          rationale: `Sockets with SO_KEEPALIVE in the host netns then probe after ${fmtSec(plan.idleSec)} idle, before the smallest idle timer (${fmtSec(plan.budgetSec)}) forgets them.`,
          fixes: g.ids,
          commands: nodeSysctlCommands('net.ipv4.tcp_keepalive_time', plan.idleSec),
          warnings: [
            'Reaches only host-network sockets: every pod netns has its own tcp_keepalive_time.',
            'Applies to sockets with SO_KEEPALIVE only.',
          ],
          change: {
            kind: 'sysctl',
            key: 'net.ipv4.tcp_keepalive_time',
            value: String(plan.idleSec),
          },
        },
        { kind: 'sysctl-keepalive', scope: undefined, what: 'time', valueS: plan.idleSec },
      );
    } else {
      add(
        {
          id: pods === 1 ? 'pod-keepalive-time' : `pod-keepalive-time@${scope}`,
          scope: 'pod',
          title: `Lower tcp_keepalive_time in the pod (netns ${scope}) to ${plan.idleSec} s`,
          rationale:
            "Each netns holds its own tcp_keepalive_time, starting at the kernel's 7200 s: a node change never reaches it.",
          fixes: g.ids,
          commands: [{ label: 'pod spec', text: podSysctlYaml(plan) }],
          warnings: [
            'Safe sysctls since Kubernetes 1.29; older clusters need kubelet --allowed-unsafe-sysctls.',
            'Applies to sockets with SO_KEEPALIVE only.',
            'The pod spec takes effect for new pods; kdiag apply changes the running netns only.',
          ],
          change: {
            kind: 'sysctl',
            key: 'net.ipv4.tcp_keepalive_time',
            value: String(plan.idleSec),
            netns: scope,
          },
        },
        { kind: 'sysctl-keepalive', scope, what: 'time', valueS: plan.idleSec },
      );
    }
  }
}

function conntrackUpdate(all: readonly Tagged[], add: Add): void {
  for (const x of all) {
    const n = x.need;
    if (n.kind !== 'conntrack-update') continue;
    const filter = conntrackUpdateArgs({
      family: n.family,
      state: n.state,
      timeoutSec: n.timeoutSec,
    });
    const inNs = n.netns ? ` (in netns ${n.netns})` : '';
    const commands = [
      { label: `every ${n.state} entry${inNs}`, text: `conntrack ${filter.join(' ')}` },
    ];
    for (const t of n.tuples.slice(0, MAX_TUPLES))
      commands.push({
        label: `only ${t.src}:${t.sport} > ${t.dst}:${t.dport}${inNs}`,
        text: `conntrack ${tupleUpdateArgs(t, n.timeoutSec).join(' ')}`,
      });
    add(
      {
        id: `conntrack-update-${n.state.toLowerCase()}${n.netns ? `@${n.netns}` : ''}`,
        scope: n.netns ? 'pod' : 'node',
        title: `Give existing ${n.state} conntrack entries the ${fmtSec(n.timeoutSec)} now in force`,
        rationale: `A timeout sysctl only reaches an entry at its next packet; conntrack -U moves the deadline of the entries that still count down from the old value at once.`,
        fixes: [x.findingId],
        commands,
        warnings: [
          `Name the family (-f ${n.family}): conntrack 1.4.7 fails every filtered update without it ("Operation not supported").`,
          'kdiag apply journals each affected entry (tuple and remaining timeout) first and reads the timers back; revert sets each entry still present back to its journaled remaining timeout minus the time elapsed.',
        ],
        change: {
          kind: 'conntrack-update',
          ...(n.netns ? { netns: n.netns } : {}),
          family: n.family,
          state: n.state,
          timeoutSec: n.timeoutSec,
        },
      },
      { kind: 'layer', layer: 'conntrack', rearmS: n.timeoutSec, appliesToExisting: true },
    );
  }
}

/** `conntrack -U` arguments for every entry of a state (the family is what makes a filtered update work). */
export function conntrackUpdateArgs(u: {
  family: 'ipv4' | 'ipv6';
  state: string;
  timeoutSec: number;
}): string[] {
  return ['-U', '-f', u.family, '-p', 'tcp', '--state', u.state, '--timeout', String(u.timeoutSec)];
}

/** `conntrack -U` arguments for one entry, by its original tuple. */
export function tupleUpdateArgs(t: ConntrackTuple, timeoutSec: number): string[] {
  return [
    '-U',
    '-p',
    t.proto,
    '-s',
    t.src,
    '-d',
    t.dst,
    '--sport',
    String(t.sport),
    '--dport',
    String(t.dport),
    '--timeout',
    String(Math.max(1, Math.round(timeoutSec))),
  ];
}
