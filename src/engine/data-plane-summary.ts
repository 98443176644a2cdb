// What the Calico eBPF and OVS inputs (issue 22) add to a capture's summary: the rows each read, and
// the inputs whose absence hides something on those data planes.
import { CALICO_CT_META, CALICO_FELIX_META, type CalicoCtSnapshot } from '../model/calico.js';
import { OVS_CT_META, type OvsCtSnapshot } from '../model/ovs.js';

/** The unit and count of a data-plane meta observation (`calico-ct.txt: 5 Calico entries`), if one. */
export function dataPlaneRows(
  key: string,
  value: unknown,
): { unit: string; n: number } | undefined {
  if (key === CALICO_CT_META)
    return { unit: 'Calico entries', n: (value as CalicoCtSnapshot).entries.length };
  if (key === CALICO_FELIX_META) return { unit: 'FelixConfigurations', n: 1 };
  if (key === OVS_CT_META)
    return { unit: 'zones', n: Object.keys((value as OvsCtSnapshot).zones).length };
  return undefined;
}

/** Inputs missing next to the data-plane ones that were read, and what each absence hides. */
export function dataPlaneMissing(
  has: (...ids: string[]) => boolean,
): { readonly input: string; readonly hides: string }[] {
  const out: { input: string; hides: string }[] = [];
  if (has('calico:conntrack') && !has('calico:felixconfig'))
    out.push({
      input: 'FelixConfiguration (kubectl get felixconfiguration default -o yaml)',
      hides: "Calico's conntrack timeouts are Felix's defaults (tcpEstablished 1 h)",
    });
  if (has('calico:felixconfig') && !has('calico:conntrack'))
    out.push({
      input: 'Calico eBPF conntrack (calico-node -bpf conntrack dump --raw)',
      hides: "which flows Calico's eBPF conntrack still holds, and how long each has left",
    });
  // iptables counters and kube-proxy's metric never count these, and the drop probe's filter takes
  // core reasons only (probes/trace_skb_drop.bt): said whenever OVS is in the picture.
  if (has('ovs:conntrack'))
    out.push({
      input: 'drops inside Open vSwitch (kfree_skb reasons OVS_DROP_*)',
      hides: has('bpftrace:trace_skb_drop')
        ? "INVALID and policy drops in OVS's pipeline: the drop probe takes core reasons only, and iptables counters and kube-proxy's INVALID metric never count them"
        : "INVALID and policy drops in OVS's pipeline: no drop probe ran, and iptables counters and kube-proxy's INVALID metric never count them",
    });
  return out;
}
