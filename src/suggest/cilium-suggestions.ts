// Suggestions for Cilium's BPF conntrack timeouts: the cilium-config keys (through the Helm chart's
// extraConfig, which writes them into that ConfigMap) and the agent restart they need.
import type { SuggestNeed } from '../analysis/needs.js';
import { fmtSec } from '../analysis/path/evidence.js';
import type { Suggestion } from '../model/diagnosis.js';
import { friendlyAbove } from './values.js';

type CiliumNeed = Extract<SuggestNeed, { kind: 'cilium-ct-timeout' }>;

/** One suggestion per timeout key the findings ask to raise, with the largest value any asked for. */
export function ciliumSuggestions(
  all: readonly { readonly findingId: string; readonly need: SuggestNeed }[],
  add: (s: Omit<Suggestion, 'rank'>) => void,
): void {
  const byKey = new Map<string, { above: number; fixes: string[] }>();
  for (const x of all) {
    if (x.need.kind !== 'cilium-ct-timeout') continue;
    const n: CiliumNeed = x.need;
    const cur = byKey.get(n.key) ?? { above: 0, fixes: [] };
    cur.above = Math.max(cur.above, n.aboveSec);
    cur.fixes.push(x.findingId);
    byKey.set(n.key, cur);
  }
  for (const [key, { above, fixes }] of [...byKey].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const v = friendlyAbove(above);
    add({
      id: `cilium-${key.replace(/^bpf-ct-timeout-/, 'ct-timeout-')}`,
      // Cilium is the kube-proxy replacement here: the same blast radius (every node's datapath).
      scope: 'kube-proxy',
      title: `Raise Cilium's ${key} to ${fmtSec(v)}`,
      rationale:
        "Cilium's BPF conntrack then keeps idle flows longer than their keepalive needs to refresh them.",
      fixes,
      commands: [
        {
          label: 'Helm (the chart has no value of its own for it)',
          text: `helm upgrade cilium cilium/cilium -n kube-system --reuse-values --set-string extraConfig.${key}=${v}s`,
        },
        {
          label: 'or the ConfigMap',
          text: `kubectl -n kube-system patch configmap cilium-config --type merge -p '{"data":{"${key}":"${v}s"}}'`,
        },
        {
          label: 'restart (the agent reads it at start)',
          text: 'kubectl -n kube-system rollout restart daemonset/cilium',
        },
      ],
      warnings: [
        'Give the value a unit (8000s, 2h): the agent reads a bare number as nanoseconds.',
        'An existing entry keeps its deadline until its next packet re-arms it with the new timeout.',
        'Managed Cilium (GKE Dataplane V2, AKS powered by Cilium) reconciles cilium-config: keepalive is then the fix.',
        'Longer timeouts keep dead flows in the CT map longer: watch bpf-ct-global-tcp-max.',
      ],
    });
  }
}
