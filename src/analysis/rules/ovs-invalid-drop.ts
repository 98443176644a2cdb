// OVS data planes (Antrea, OVN-Kubernetes; issue 22): packets the kernel's Open vSwitch datapath
// dropped (kfree_skb reasons of the OPENVSWITCH subsystem, net/openvswitch/drop.h). Their pipelines
// drop `ct_state=+inv+trk` packets in OpenFlow, before netfilter's FORWARD chain: iptables' INVALID
// counters and kube-proxy's ct_state_invalid metric never count them.
import type { Evidence } from '../../model/diagnosis.js';
import { OVS_CT_META, type OvsCtSnapshot } from '../../model/ovs.js';
import type { PathTimeouts } from '../path/path-timeouts.js';
import type { Rule } from '../rule.js';
import { evidence, itemEvidence, latestT, makeDraft } from '../rule.js';

/** SKB_DROP_REASON_SUBSYS_OPENVSWITCH (include/net/dropreason.h), above SKB_DROP_REASON_SUBSYS_SHIFT. */
const OVS_SUBSYS = 3;

/** A drop reason of the OVS datapath: by name, or a number the kernel's core table does not name. */
export function isOvsDropReason(reason: string): boolean {
  if (reason.startsWith('OVS_DROP_')) return true;
  const m = /^UNKNOWN\((\d{1,10})\)$/.exec(reason);
  return m !== null && Number(m[1]) >>> 16 === OVS_SUBSYS;
}

export const ovsInvalidDrop: Rule = {
  code: 'ovs.invalid-drop',
  fm: 'FM-5',
  run(ctx) {
    const m = ctx.table.meta(OVS_CT_META);
    const dump = m?.value as OvsCtSnapshot | undefined;
    if (!m || !dump || !Array.isArray(dump.entries)) return [];
    const flows: PathTimeouts[] = [];
    const evs: Evidence[] = [];
    const reasons = new Set<string>();
    let drops = 0;
    for (const f of ctx.resetOrDropFlows()) {
      const items = (f.timeline ?? []).filter(
        (i) => i.kind === 'drop' && i.probe?.kind === 'drop' && isOvsDropReason(i.probe.reason),
      );
      if (items.length === 0) continue;
      drops += items.length;
      for (const i of items) if (i.probe?.kind === 'drop') reasons.add(i.probe.reason);
      flows.push(ctx.pathOf(f));
      evs.push(...items.slice(0, 2).map((i) => itemEvidence(i, 'dropped inside Open vSwitch')));
    }
    if (flows.length === 0) return [];
    const zones = Object.keys(dump.zones)
      .map(Number)
      .sort((a, b) => a - b);
    evs.push(
      evidence(
        m.t,
        m.src,
        `ovs-appctl dpctl/dump-conntrack: ${dump.entries.length} entries in zone${zones.length === 1 ? '' : 's'} ${zones.join(', ')}`,
      ),
    );
    flows.sort((a, b) => (a.id < b.id ? -1 : 1));
    return [
      makeDraft({
        rule: 'ovs.invalid-drop',
        fm: 'FM-5',
        subject: 'host',
        severity: 'warning',
        confidence: 'possible',
        title: 'Packets of live flows are dropped inside Open vSwitch',
        cause: `The kernel dropped ${drops} packet${drops === 1 ? '' : 's'} of ${flows.length} flow${flows.length === 1 ? '' : 's'} in the Open vSwitch datapath (${[...reasons].sort().join(', ')}). Antrea and OVN-Kubernetes drop packets conntrack marks INVALID (ct_state=+inv+trk) in their OpenFlow pipeline, as they drop policy denials: iptables' INVALID counters and kube-proxy's kubeproxy_iptables_ct_state_invalid_dropped_packets_total never see these. Check which flow drops them with ovs-appctl dpctl/dump-flows | grep -- '+inv'.`,
        flows: flows.slice(0, 50).map((p) => p.id),
        evidence: evs,
        needs: [],
        t: latestT(evs, ctx.now),
      }),
    ];
  },
};
