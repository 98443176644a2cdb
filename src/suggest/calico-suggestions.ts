// Suggestions for Calico's eBPF data plane: raise a bpfConntrackTimeouts field of the
// FelixConfiguration (api/pkg/apis/projectcalico/v3/felixconfig.go; values are Go durations).
import type { Suggestion } from '../model/diagnosis.js';
import { fmtSec } from '../analysis/path/evidence.js';
import type { SuggestNeed } from '../analysis/needs.js';
import { friendlyAbove } from './values.js';

type Tagged = { readonly findingId: string; readonly need: SuggestNeed };
type Add = (s: Omit<Suggestion, 'rank'>) => void;

/** Adds one `calico-<field>` suggestion per bpfConntrackTimeouts field some finding needs raised. */
export function calicoSuggestions(all: readonly Tagged[], add: Add): void {
  const byField = new Map<string, { ids: string[]; above: number }>();
  for (const x of all) {
    if (x.need.kind !== 'calico-ct-timeout') continue;
    const g = byField.get(x.need.field) ?? { ids: [], above: 0 };
    g.ids.push(x.findingId);
    g.above = Math.max(g.above, x.need.aboveSec);
    byField.set(x.need.field, g);
  }
  for (const [field, g] of [...byField].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const v = friendlyAbove(g.above);
    const patch = JSON.stringify({ spec: { bpfConntrackTimeouts: { [field]: goDuration(v) } } });
    add({
      id: `calico-${kebab(field)}`,
      scope: 'node',
      title: `Raise Calico's bpfConntrackTimeouts.${field} to ${fmtSec(v)}`,
      rationale:
        "Calico's eBPF conntrack then keeps idle flows longer than they stay idle; Felix's cleanup compares each entry's age with the value in force at every scan, so entries already in the map get it too.",
      fixes: g.ids,
      commands: [
        {
          label: 'kubectl (crd.projectcalico.org)',
          text: `kubectl patch felixconfiguration default --type merge -p '${patch}'`,
        },
        {
          label: 'calicoctl',
          text: `calicoctl patch felixconfiguration default -p '${patch}'`,
        },
      ],
      warnings: [
        'FelixConfiguration default applies to every node; a node-specific one (node.<name>) overrides it.',
        'Longer timeouts keep dead flows in the map longer: watch its size against bpfMapSizeConntrack.',
      ],
    });
  }
}

/** Seconds as a Go duration Felix parses (`2h`, `1h5m`, `90s`). */
function goDuration(sec: number): string {
  const h = Math.floor(sec / 3600);
  const m = Math.floor((sec % 3600) / 60);
  const s = sec % 60;
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s || (!h && !m) ? `${s}s` : ''}`;
}

function kebab(field: string): string {
  return field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
