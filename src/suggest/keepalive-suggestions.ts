// Keepalive suggestions: the application's socket options, and a netns sysctl where the sockets take
// their keepalive from it. The plan is checked against the race of the flows it targets first.
import type { ApplyChange } from '../model/diagnosis.js';
import { type PathContext, sysctlInForce } from '../analysis/path/context.js';
import { KA_INTVL, KA_TIME } from '../model/kernel-defaults.js';
import { fmtSec } from '../analysis/path/evidence.js';
import type { SuggestNeed } from '../analysis/needs.js';
import type { PathTimeouts } from '../analysis/path/path-timeouts.js';
import type { Add } from './checked.js';
import { nodeSysctl } from './node-sysctl.js';
import {
  type Target,
  type Trial,
  budgetRace,
  checkTrial,
  sysctlDriven,
  targetsOf,
} from './race-check.js';
import { appKeepaliveSnippets, podSysctlYaml } from './snippets.js';
import { type KeepalivePlan, keepalivePlan } from './values.js';

type Tagged = {
  readonly findingId: string;
  readonly need: Extract<SuggestNeed, { kind: 'keepalive' }>;
};

/** Smallest layer timeout on a flow's path (the keepalive budget). */
function pathBudget(p: PathTimeouts): number {
  const ts = p.layers
    .filter((l) => l.layer !== 'keepalive' && l.timeoutSec !== null)
    .map((l) => l.timeoutSec as number);
  return ts.length ? Math.min(...ts) : Infinity;
}

/**
 * The keepalive plan for these flows: the friendly plan under the budget when the race says it saves
 * as many flows as any, else the first shorter interval that saves more (an interval as long as a
 * timeout races it; answered probes come every max(keepidle, keepintvl)).
 */
function checkedPlan(plan: KeepalivePlan, targets: readonly Target[]): KeepalivePlan | undefined {
  const candidates: KeepalivePlan[] = [plan];
  for (const i of [30, 15, 10, 5, 2, 1])
    if (i < plan.intervalSec && i < plan.idleSec) candidates.push({ ...plan, intervalSec: i });
  if (targets.length === 0) {
    return candidates.find(
      (c) =>
        budgetRace(c.budgetSec, { idleS: c.idleSec, intvlS: c.intervalSec, probes: c.probes })
          .verdict.kind === 'safe',
    );
  }
  let best: KeepalivePlan | undefined;
  let bestN = 0;
  for (const c of candidates) {
    const r = checkTrial(socketTrial(c), targets);
    const n = r.saves.length + r.savesLater;
    if (n > bestN) {
      best = c;
      bestN = n;
    }
    if (n === targets.length) break;
  }
  return best;
}

function socketTrial(p: KeepalivePlan): Trial {
  return { kind: 'socket-keepalive', idleS: p.idleSec, intvlS: p.intervalSec, probes: p.probes };
}

/** The keepalive suggestions: the application's, then a netns sysctl where it reaches the sockets. */
export function keepaliveSuggestions(needs: readonly Tagged[], ctx: PathContext, add: Add): void {
  if (needs.length === 0) return;
  let budget = Infinity;
  let cur = { intervalSec: 75, probes: 9 };
  for (const n of needs) {
    budget = Math.min(budget, n.need.budgetSec ?? Infinity, ...n.need.paths.map(pathBudget));
    const on = n.need.paths.find((p) => p.keepalive.state === 'on');
    if (on) cur = { intervalSec: on.keepalive.intervalSec, probes: on.keepalive.probes };
  }
  if (!Number.isFinite(budget)) budget = 7200;
  const targets = targetsOf(
    needs.flatMap((n) => n.need.paths),
    [],
    new Map(),
  );
  const plan = checkedPlan(keepalivePlan(budget, cur), targets);
  // No keepalive kdiag can compute keeps these flows: the findings say so, with no change that fails.
  if (!plan) return;
  const ids = needs.map((n) => n.findingId);
  add(
    {
      id: 'app-keepalive',
      scope: 'socket',
      title: `Enable TCP keepalive in the application: idle ${plan.idleSec} s, interval ${plan.intervalSec} s, ${plan.probes} probes`,
      rationale: `A keepalive after ${fmtSec(plan.idleSec)} idle refreshes every timer on the path, the smallest of which forgets the flow after ${fmtSec(plan.budgetSec)}; it works whether or not the socket had SO_KEEPALIVE.`,
      fixes: ids,
      commands: appKeepaliveSnippets(plan),
      warnings: [
        "Set it on the side that owns the long-lived connection (usually the client); either side's keepalive refreshes conntrack, IPVS and cloud timers.",
      ],
    },
    socketTrial(plan),
  );
  // A netns sysctl only reaches sockets that already set SO_KEEPALIVE and no TCP_KEEPIDLE of their own.
  const byScope = new Map<string, string[]>();
  for (const n of needs) {
    const scopes = new Set<string>();
    let all = n.need.paths.length > 0;
    for (const p of n.need.paths) {
      const s = p.keepalive.sockets.find(sysctlDriven);
      if (!s) {
        all = false;
        break;
      }
      scopes.add(s.scope ?? '');
    }
    if (!all || scopes.size !== 1) continue;
    const sc = [...scopes][0] ?? '';
    byScope.set(sc, [...(byScope.get(sc) ?? []), n.findingId]);
  }
  for (const [scope, fixes] of [...byScope].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const ns = scope === '' ? undefined : scope;
    // Lowering the time does not help when the interval is what races the timeout: both are tried,
    // each alone (kdiag apply changes one sysctl), and the race keeps what saves the flows.
    for (const what of ['time', 'intvl'] as const) {
      const key = `net.ipv4.tcp_keepalive_${what}`;
      const value = what === 'time' ? plan.idleSec : plan.intervalSec;
      const trial: Trial = {
        kind: 'sysctl-keepalive',
        scope: ns,
        what,
        valueS: value,
        inForceS: sysctlInForce(ctx, what === 'time' ? KA_TIME : KA_INTVL, ns).value,
      };
      const word = what === 'time' ? 'tcp_keepalive_time' : 'tcp_keepalive_intvl';
      if (ns === undefined) {
        add(
          nodeSysctl(
            what === 'time' ? 'node-keepalive-time' : 'node-keepalive-intvl',
            key,
            value,
            fixes,
            `Lower the host netns ${word} to ${value} s`,
            `The host-network sockets of these flows have SO_KEEPALIVE and use the host netns keepalive ${what === 'time' ? 'time' : 'interval'}.`,
            [
              `Reaches only host-network sockets: every pod netns has its own ${word}.`,
              'Applies to sockets with SO_KEEPALIVE only.',
            ],
          ),
          trial,
        );
        continue;
      }
      const change: ApplyChange = { kind: 'sysctl', key, value: String(value), netns: ns };
      const base = what === 'time' ? 'pod-keepalive-time' : 'pod-keepalive-intvl';
      add(
        {
          id: byScope.size === 1 ? base : `${base}@${ns}`,
          scope: 'pod',
          title: `Lower ${word} in the pod (netns ${ns}) to ${value} s`,
          rationale:
            what === 'time'
              ? "These sockets have SO_KEEPALIVE and take their keepalive time from the pod's netns sysctl, which does not inherit the node value."
              : "These sockets have SO_KEEPALIVE and take their keepalive interval from the pod's netns sysctl, which does not inherit the node value.",
          fixes,
          commands: [{ label: 'pod spec', text: podSysctlYaml(plan) }],
          warnings: [
            'Safe sysctls since Kubernetes 1.29; older clusters need kubelet --allowed-unsafe-sysctls.',
            'Applies to sockets with SO_KEEPALIVE only.',
            'The pod spec takes effect for new pods; kdiag apply changes the running netns only.',
          ],
          change,
        },
        trial,
      );
    }
  }
}
