// Filters for trace and the UI: by port, address, or pod (namespace/name).
import type { FlowView } from '../model/diagnosis.js';

export interface FlowFilter {
  readonly ports?: readonly number[];
  readonly addrs?: readonly string[];
  /** `namespace/name`, or `namespace/` for a whole namespace. */
  readonly pods?: readonly string[];
}

export function isEmptyFilter(f: FlowFilter): boolean {
  return !f.ports?.length && !f.addrs?.length && !f.pods?.length;
}

/** Endpoints named in a flow id `tcp a:p>b:q` (IPv6 in brackets). */
function endpointsOfId(id: string): { addr: string; port: number }[] {
  const body = id.slice(id.indexOf(' ') + 1);
  return body.split('>').map((part) => {
    const m = /^\[?(.*?)\]?:(\d+)$/.exec(part.trim());
    return m ? { addr: m[1]!, port: Number(m[2]) } : { addr: part, port: -1 };
  });
}

/** True when the flow (its view if known, else its id) matches every given criterion kind. */
export function matchesFlow(f: FlowFilter, id: string | undefined, view?: FlowView): boolean {
  if (isEmptyFilter(f)) return true;
  if (!id && !view) return false;
  const eps = view
    ? [view.client, view.target, ...(view.backend ? [view.backend] : [])]
    : endpointsOfId(id!);
  if (f.ports?.length && !eps.some((e) => f.ports!.includes(e.port))) return false;
  if (f.addrs?.length && !eps.some((e) => f.addrs!.includes(e.addr))) return false;
  if (f.pods?.length) {
    const pod = view?.owner?.pod;
    if (!pod) return false;
    const full = `${pod.namespace}/${pod.name}`;
    if (!f.pods.some((p) => (p.endsWith('/') ? full.startsWith(p) : full === p))) return false;
  }
  return true;
}
