// Which named network namespaces are wired to a node's namespace over veth pairs, from iproute2's
// JSON (pure). `trace --netns NODE` filters its probes to these: the diagnosed flows' sockets live
// in the pods and clients on the other end of the node's veths, not in the node's namespace.
//
// Formats (iproute2 6.1, read on this machine; ip/ipaddress.c print_linkinfo and ip/ipnetns.c
// print_nsid): `ip -j -d link show type veth` prints one object per link with `ifindex`,
// `link_index` (the peer's ifindex) and `link_netnsid` (the peer's namespace as this namespace's
// nsid) when the peer is in another namespace, `link` (the peer's name) when it is in the same one;
// `ip -j netns list-id` prints `{"nsid":N,"name":"NAME"}`, without `name` when no /run/netns entry
// is that namespace.

/** One veth end as `ip -j -d link show type veth` prints it. */
export interface VethLink {
  readonly ifindex: number;
  /** The peer's ifindex, in the namespace `linkNetnsid` names. */
  readonly linkIndex?: number;
  /** The peer's namespace as this namespace's nsid; absent when the peer is in this namespace. */
  readonly linkNetnsid?: number;
}

/** What kdiag read of one namespace: its veths and its nsid → name table. */
export interface NetnsLinks {
  readonly veths: readonly VethLink[];
  /** nsid → the /run/netns name of that namespace, undefined when it has none. */
  readonly nsids: ReadonlyMap<number, string | undefined>;
}

/** A namespace reached, by name: its inode, and its links once read (or why they could not be). */
export interface NamedNetnsView {
  readonly inode?: number;
  readonly links?: NetnsLinks;
  readonly error?: string;
}

/** A host namespace (PID 1's, kdiag's own): never traced, never crossed. */
export interface HostNetnsView {
  readonly inode: number;
  readonly links?: NetnsLinks;
}

export interface NetnsScope {
  /** Namespaces to trace, the start first, then in the order they were reached. */
  readonly traced: readonly { readonly name: string; readonly inode: number }[];
  /** Names reached whose inode or links kdiag has not read yet: read them and call again. */
  readonly toRead: readonly string[];
  /** Veth peers in namespaces with no name: kdiag cannot resolve their inode. */
  readonly unnamed: number;
  /** Named namespaces reached that are a host's (not traced, not crossed). */
  readonly hostNamed: readonly string[];
  /** Namespaces whose links could not be read, and why (their peers are not followed). */
  readonly failed: readonly { readonly name: string; readonly error: string }[];
  /** More namespaces than `cap` were reached: the search stopped. */
  readonly overCap: boolean;
}

const isIndex = (x: unknown): x is number =>
  typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= 0xffffffff;

/** The objects of iproute2's JSON array, or what is wrong with it (`what` names the command). */
function jsonObjects(json: string, what: string): Record<string, unknown>[] | string {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return `${what}: output is not JSON`;
  }
  if (!Array.isArray(raw)) return `${what}: expected a JSON array`;
  return raw.filter((x): x is Record<string, unknown> => typeof x === 'object' && x !== null);
}

/** Parses `ip -j -d link show type veth`; a string says what is wrong. */
export function parseVethLinks(json: string): VethLink[] | string {
  const raw = jsonObjects(json, 'ip -j link');
  if (typeof raw === 'string') return raw;
  const out: VethLink[] = [];
  for (const o of raw) {
    const kind = (o['linkinfo'] as { info_kind?: unknown } | undefined)?.info_kind;
    if (kind !== undefined && kind !== 'veth') continue;
    if (!isIndex(o['ifindex'])) continue;
    out.push({
      ifindex: o['ifindex'],
      ...(isIndex(o['link_index']) ? { linkIndex: o['link_index'] } : {}),
      ...(isIndex(o['link_netnsid']) ? { linkNetnsid: o['link_netnsid'] } : {}),
    });
  }
  return out;
}

/** Parses `ip -j netns list-id` (nsid → name, undefined without a name); a string says what is wrong. */
export function parseNsidList(json: string): Map<number, string | undefined> | string {
  // iproute2 prints nothing at all when the namespace knows no other namespace.
  if (json.trim() === '') return new Map();
  const raw = jsonObjects(json, 'ip -j netns list-id');
  if (typeof raw === 'string') return raw;
  const out = new Map<number, string | undefined>();
  for (const o of raw) {
    if (!isIndex(o['nsid'])) continue;
    out.set(o['nsid'], typeof o['name'] === 'string' ? o['name'] : undefined);
  }
  return out;
}

/**
 * True when the veth `v` of namespace `name` has its peer in a host namespace: the host has a veth
 * whose peer is `v` (ifindex both ways, and the host's nsid of that peer names `name`).
 */
function peerIsHost(name: string, v: VethLink, hosts: readonly HostNetnsView[]): boolean {
  return hosts.some((h) =>
    (h.links?.veths ?? []).some(
      (hv) =>
        hv.ifindex === v.linkIndex &&
        hv.linkIndex === v.ifindex &&
        hv.linkNetnsid !== undefined &&
        h.links?.nsids.get(hv.linkNetnsid) === name,
    ),
  );
}

/**
 * The named namespaces reachable from `start` over veth links, transitively, never through a host
 * namespace. `views` holds what was read so far; `toRead` lists what is still needed (the caller
 * reads those and calls again until it is empty). At most `cap` namespaces are traced.
 */
export function netnsScope(
  start: string,
  views: ReadonlyMap<string, NamedNetnsView>,
  hosts: readonly HostNetnsView[],
  cap: number,
): NetnsScope {
  const hostInodes = new Set(hosts.map((h) => h.inode));
  const traced: { name: string; inode: number }[] = [];
  const toRead: string[] = [];
  const hostNamed: string[] = [];
  const failed: { name: string; error: string }[] = [];
  let unnamed = 0;
  const seen = new Set<string>([start]);
  const queue = [start];
  while (queue.length > 0) {
    const name = queue.shift()!;
    const v = views.get(name);
    if (v === undefined || (v.inode === undefined && v.error === undefined)) {
      toRead.push(name);
      continue;
    }
    if (v.inode === undefined) {
      failed.push({ name, error: v.error ?? 'unreadable' });
      continue;
    }
    if (hostInodes.has(v.inode)) {
      hostNamed.push(name);
      continue;
    }
    if (traced.length >= cap)
      return { traced, toRead: [], unnamed, hostNamed, failed, overCap: true };
    traced.push({ name, inode: v.inode });
    if (v.links === undefined) {
      if (v.error !== undefined) failed.push({ name, error: v.error });
      else toRead.push(name);
      continue;
    }
    for (const l of v.links.veths) {
      if (l.linkNetnsid === undefined) continue;
      const peer = v.links.nsids.get(l.linkNetnsid);
      if (peer === undefined) {
        if (!peerIsHost(name, l, hosts)) unnamed++;
        continue;
      }
      if (seen.has(peer)) continue;
      seen.add(peer);
      queue.push(peer);
    }
  }
  return { traced, toRead, unnamed, hostNamed, failed, overCap: false };
}

/** The probes' inode filter for a scope (undefined: no filter) and the lines that say what it covers. */
export function describeNetnsScope(
  start: string,
  scope: NetnsScope,
  cap: number,
): { readonly inodes?: readonly number[]; readonly notes: readonly string[] } {
  const notes: string[] = [];
  for (const f of scope.failed)
    notes.push(
      `could not read the veth links of network namespace ${f.name} (${f.error}): namespaces behind it are not traced`,
    );
  if (scope.overCap) {
    notes.push(
      `probes not filtered by network namespace: more than ${cap} namespaces are wired to ${start} over veth links (the filter's limit); every namespace's events are traced (choose some with --probe-netns)`,
    );
    return { notes };
  }
  if (scope.traced.length === 0) {
    notes.push(
      `probes not filtered by network namespace: ${start} is the host's own namespace; every namespace's events are traced (choose some with --probe-netns)`,
    );
    return { notes };
  }
  const list = scope.traced.map((t) => `${t.name} (inode ${t.inode})`).join(', ');
  notes.push(
    `probes filtered in the kernel to ${scope.traced.length === 1 ? 'network namespace' : `${scope.traced.length} network namespaces, ${start} and those wired to it over veth links:`} ${list}; other namespaces' events, and those of namespaces created after the start, are not traced`,
  );
  if (scope.unnamed > 0)
    notes.push(
      `${scope.unnamed} veth peer${scope.unnamed === 1 ? ' is' : 's are'} in namespaces with no name under /run/netns: their events are not traced (name one with ip netns attach NAME PID)`,
    );
  if (scope.hostNamed.length > 0)
    notes.push(`not traced: ${scope.hostNamed.join(', ')}, the host's own namespace`);
  return { inodes: scope.traced.map((t) => t.inode), notes };
}
