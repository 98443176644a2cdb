// Finding needs → suggestions, smallest blast radius first. One suggestion per fix, carrying the most
// demanding value any finding asked for, and the finding ids it fixes.
import type { ApplyChange, Suggestion, SuggestionScope } from '../model/diagnosis.js';
import {
  type PathContext,
  ipvsTimeoutsInForce,
  isRaiseOnlyKubeProxy,
  sysctlInForce,
} from '../analysis/path/context.js';
import { fmtSec } from '../analysis/path/evidence.js';
import type { SocketKeepaliveView } from '../analysis/path/keepalive.js';
import type { PathTimeouts } from '../analysis/path/path-timeouts.js';
import { CT_TCP_TIMEOUTS } from '../model/kernel-defaults.js';
import { CLOUD_PRESETS } from '../model/cloud-presets.js';
import type { SuggestNeed } from '../analysis/needs.js';
import {
  KUBE_PROXY_FLAG_FIELDS,
  KUBE_PROXY_WARNINGS,
  appKeepaliveSnippets,
  kubeProxyPatch,
  nodeSysctlCommands,
  podSysctlYaml,
} from './snippets.js';
import { deadlineSuggestions } from './deadline-suggestions.js';
import { calicoSuggestions } from './calico-suggestions.js';
import { ciliumSuggestions } from './cilium-suggestions.js';
import { friendlyAbove, keepalivePlan } from './values.js';
import type { KeepalivePlan } from './values.js';
import { checkSuggestions, type Add, type Refused } from './checked.js';
import { keepaliveSuggestions } from './keepalive-suggestions.js';
import { nodeSysctl } from './node-sysctl.js';
import type { Trial } from './race-check.js';

export const SCOPE_RANK: Record<SuggestionScope, number> = {
  socket: 1,
  pod: 2,
  node: 3,
  ipvs: 4,
  'kube-proxy': 5,
  external: 6,
};

export interface NeedSet {
  readonly findingId: string;
  readonly needs: readonly SuggestNeed[];
  /** The flows the finding names: what its suggestions are checked against. */
  readonly flows?: readonly string[];
}

export interface SuggestResult {
  readonly suggestions: Suggestion[];
  /** Finding id → suggestion ids that fix it, in rank order. */
  readonly byFinding: Map<string, string[]>;
  /** Finding id → why it has no fix: every suggestion it had was refused by the race. */
  readonly unfixed: Map<string, string>;
}

type Tagged<K extends SuggestNeed['kind']> = {
  readonly findingId: string;
  readonly need: Extract<SuggestNeed, { kind: K }>;
};

/** Builds every suggestion the findings need. */
export function buildSuggestions(sets: readonly NeedSet[], ctx: PathContext): SuggestResult {
  const all = sets.flatMap((s) => s.needs.map((need) => ({ findingId: s.findingId, need })));
  const of = <K extends SuggestNeed['kind']>(k: K): Tagged<K>[] =>
    all.filter((x) => x.need.kind === k) as Tagged<K>[];
  const out: Suggestion[] = [];
  // The change each suggestion makes, as the race sees it (the first one made under an id).
  const trials = new Map<string, Trial>();
  const add: Add = (s, trial) => {
    if (s.fixes.length === 0) return;
    out.push({ ...s, rank: SCOPE_RANK[s.scope], fixes: [...new Set(s.fixes)].sort() });
    if (trial && !trials.has(s.id)) trials.set(s.id, trial);
  };

  keepaliveSuggestions(of('keepalive'), ctx, add);
  deadlineSuggestions(all, ctx, add);
  calicoSuggestions(all, add);
  ciliumSuggestions(all, add);

  // Drift needs reuse the suggestion of the same sysctl.
  const drift = of('kube-proxy-sysctl');
  const est = [
    ...of('conntrack-established').map((x) => ({ id: x.findingId, above: x.need.aboveSec })),
  ];
  const cw = [
    ...of('conntrack-close-wait').map((x) => ({ id: x.findingId, above: x.need.aboveSec })),
  ];
  const liberal = of('be-liberal').map((x) => x.findingId);
  const otherSysctl: { id: string; key: string; value: number }[] = [];
  for (const d of drift) {
    if (d.need.key === CT_TCP_TIMEOUTS.ESTABLISHED?.sysctl)
      est.push({ id: d.findingId, above: d.need.value - 1 });
    else if (d.need.key === CT_TCP_TIMEOUTS.CLOSE_WAIT?.sysctl)
      cw.push({ id: d.findingId, above: d.need.value - 1 });
    else if (d.need.key.endsWith('nf_conntrack_tcp_be_liberal')) liberal.push(d.findingId);
    else otherSysctl.push({ id: d.findingId, key: d.need.key, value: d.need.value });
  }

  if (est.length > 0) {
    const v = friendlyAbove(Math.max(...est.map((x) => x.above)));
    const fixes = est.map((x) => x.id);
    const key =
      CT_TCP_TIMEOUTS.ESTABLISHED?.sysctl ?? 'net.netfilter.nf_conntrack_tcp_timeout_established';
    const trial = (inForceS?: number): Trial => ({
      kind: 'layer',
      layer: 'conntrack',
      rearmS: v,
      appliesToExisting: false,
      ...(inForceS !== undefined ? { inForceS } : {}),
    });
    add(
      nodeSysctl(
        'node-conntrack-established',
        key,
        v,
        fixes,
        `Raise conntrack's ESTABLISHED timeout to ${fmtSec(v)}`,
        `Conntrack then keeps idle flows longer than their keepalive needs to refresh them.`,
        [
          'kube-proxy rewrites this sysctl at its start from conntrack.tcpEstablishedTimeout (86400 s by default): change kube-proxy too, or the next restart undoes this.',
          'Longer timeouts keep dead flows in the table longer: watch nf_conntrack_count against nf_conntrack_max.',
        ],
      ),
      trial(estInForce(ctx)),
    );
    add(
      kubeProxy(
        'kube-proxy-conntrack-established',
        'conntrack.tcpEstablishedTimeout',
        '--conntrack-tcp-timeout-established',
        `${v}s`,
        fixes,
        `Set kube-proxy's conntrack.tcpEstablishedTimeout to ${fmtSec(v)}`,
        'kube-proxy writes it to the node at every start, so the node value survives restarts.',
        isRaiseOnlyKubeProxy(ctx.kubeProxyVersion) || ctx.kubeProxyVersion === undefined
          ? [
              'kube-proxy 1.22–1.28 only raise this sysctl (set only if the current value is lower).',
            ]
          : [],
      ),
      trial(ctx.table.kubeProxy?.value.conntrack.tcpEstablishedTimeout || undefined),
    );
  }
  if (cw.length > 0) {
    const v = friendlyAbove(Math.max(...cw.map((x) => x.above)));
    const fixes = cw.map((x) => x.id);
    const key =
      CT_TCP_TIMEOUTS.CLOSE_WAIT?.sysctl ?? 'net.netfilter.nf_conntrack_tcp_timeout_close_wait';
    add(
      nodeSysctl(
        'node-conntrack-close-wait',
        key,
        v,
        fixes,
        `Raise conntrack's CLOSE_WAIT timeout to ${fmtSec(v)}`,
        "Conntrack then keeps half-closed flows until the application closes its socket, so the late FIN is still NAT'ed.",
        [
          'kube-proxy rewrites this sysctl at its start from conntrack.tcpCloseWaitTimeout (3600 s by default).',
        ],
      ),
    );
    add(
      kubeProxy(
        'kube-proxy-conntrack-close-wait',
        'conntrack.tcpCloseWaitTimeout',
        '--conntrack-tcp-timeout-close-wait',
        `${v}s`,
        fixes,
        `Set kube-proxy's conntrack.tcpCloseWaitTimeout to ${fmtSec(v)}`,
        'kube-proxy writes it to the node at every start.',
        [],
      ),
    );
  }
  const unack = of('conntrack-unacknowledged');
  if (unack.length > 0) {
    const v = friendlyAbove(Math.max(...unack.map((x) => x.need.aboveSec)) - 1);
    const fixes = unack.map((x) => x.findingId);
    add(
      nodeSysctl(
        'node-conntrack-unacknowledged',
        'net.netfilter.nf_conntrack_tcp_timeout_unacknowledged',
        v,
        fixes,
        `Raise conntrack's unacknowledged-data timeout to ${fmtSec(v)}`,
        'Conntrack then keeps a flow whose peer stalls for longer than 300 s.',
        [
          'This hides a stalled or one-way path for longer; fix the stall if you can.',
          'Zero-window and retransmit clamps use net.netfilter.nf_conntrack_tcp_timeout_max_retrans: raise it the same way if the finding names them.',
        ],
      ),
    );
  }
  if (liberal.length > 0) {
    add(
      nodeSysctl(
        'node-conntrack-be-liberal',
        'net.netfilter.nf_conntrack_tcp_be_liberal',
        1,
        liberal,
        'Make conntrack accept out-of-window TCP segments',
        'With be_liberal=1 out-of-window segments are not INVALID, so replies keep their reverse NAT.',
        [
          'kube-proxy ≥ 1.29 started with be_liberal=1 does not install its INVALID DROP rule.',
          'Invalid RSTs are not covered: see net.netfilter.nf_conntrack_tcp_ignore_invalid_rst.',
        ],
      ),
    );
    add(
      kubeProxy(
        'kube-proxy-conntrack-be-liberal',
        'conntrack.tcpBeLiberal',
        '--conntrack-tcp-be-liberal',
        'true',
        liberal,
        "Set kube-proxy's conntrack.tcpBeLiberal: true",
        'kube-proxy (1.29+) writes nf_conntrack_tcp_be_liberal=1 at every start.',
        ['Needs kube-proxy 1.29 or later.'],
      ),
    );
  }
  for (const x of of('invalid-drop-rule')) {
    const chain = x.need.chain;
    add({
      id: `node-invalid-drop-${chain.toLowerCase()}`,
      scope: 'node',
      title: `Drop conntrack-INVALID packets in ${chain}`,
      rationale: `An INVALID packet dropped in ${chain} never reaches a socket without its NAT, so it cannot reset the connection; TCP retransmits it.`,
      fixes: [x.findingId],
      commands: [
        { label: 'now', text: `iptables -I ${chain} -m conntrack --ctstate INVALID -j DROP` },
      ],
      warnings: [
        'Not persistent: add it to the node firewall configuration.',
        'kube-proxy installs this rule in KUBE-FORWARD only; node-destined traffic goes through INPUT.',
      ],
    });
  }
  const maxNeeds = of('conntrack-max');
  if (maxNeeds.length > 0) {
    const v = Math.max(...maxNeeds.map((x) => x.need.atLeast));
    const cpus = maxNeeds.find((x) => x.need.cpus)?.need.cpus;
    const fixes = maxNeeds.map((x) => x.findingId);
    add(
      nodeSysctl(
        'node-conntrack-max',
        'net.netfilter.nf_conntrack_max',
        v,
        fixes,
        `Raise nf_conntrack_max to ${v}`,
        'A larger table takes the current flows plus churn without dropping new ones.',
        [
          'kube-proxy rewrites nf_conntrack_max at start from conntrack.maxPerCore × CPUs (or conntrack.min).',
          'Raise the hash size too: /sys/module/nf_conntrack/parameters/hashsize = max/4.',
          'Each entry costs about 300 bytes of kernel memory.',
        ],
      ),
    );
    const perCore = cpus ? Math.ceil(v / cpus / 1024) * 1024 : undefined;
    add(
      kubeProxy(
        'kube-proxy-conntrack-max',
        perCore ? 'conntrack.maxPerCore' : 'conntrack.min',
        perCore ? '--conntrack-max-per-core' : '--conntrack-min',
        String(perCore ?? v),
        fixes,
        perCore
          ? `Set kube-proxy's conntrack.maxPerCore to ${perCore} (${cpus} CPUs)`
          : `Set kube-proxy's conntrack.min to ${v}`,
        'kube-proxy sets nf_conntrack_max = max(maxPerCore × CPUs, min) at every start.',
        [],
      ),
    );
  }
  const ipvsOk = ctx.mode === undefined || ctx.mode === 'ipvs';
  const ipvsTcp = of('ipvs-tcp');
  if (ipvsTcp.length > 0 && ipvsOk) {
    const v = friendlyAbove(Math.max(...ipvsTcp.map((x) => x.need.aboveSec)));
    const fixes = ipvsTcp.map((x) => x.findingId);
    add(
      ipvsSet(
        'ipvs-tcp-timeout',
        v,
        0,
        fixes,
        `Raise the IPVS tcp timeout to ${fmtSec(v)}`,
        'IPVS then keeps idle connections until their keepalive refreshes them.',
      ),
      {
        kind: 'layer',
        layer: 'IPVS',
        rearmS: v,
        appliesToExisting: false,
        inForceS: ipvsTimeoutsInForce(ctx).tcp.value,
      },
    );
    add(
      kubeProxy(
        'kube-proxy-ipvs-tcp-timeout',
        'ipvs.tcpTimeout',
        '--ipvs-tcp-timeout',
        `${v}s`,
        fixes,
        `Set kube-proxy's ipvs.tcpTimeout to ${fmtSec(v)}`,
        'kube-proxy sets the IPVS timeouts at every start (like ipvsadm --set).',
        ['IPVS mode is deprecated since Kubernetes 1.35; nftables mode has no IPVS timer.'],
      ),
      { kind: 'layer', layer: 'IPVS', rearmS: v, appliesToExisting: false },
    );
  }
  const ipvsFin = of('ipvs-tcpfin');
  if (ipvsFin.length > 0 && ipvsOk) {
    const v = friendlyAbove(Math.max(...ipvsFin.map((x) => x.need.aboveSec)) - 1);
    const fixes = ipvsFin.map((x) => x.findingId);
    add(
      ipvsSet(
        'ipvs-tcpfin-timeout',
        0,
        v,
        fixes,
        `Raise the IPVS tcpfin timeout to ${fmtSec(v)}`,
        'IPVS then keeps half-closed streams through longer pauses.',
      ),
    );
    add(
      kubeProxy(
        'kube-proxy-ipvs-tcpfin-timeout',
        'ipvs.tcpFinTimeout',
        '--ipvs-tcpfin-timeout',
        `${v}s`,
        fixes,
        `Set kube-proxy's ipvs.tcpFinTimeout to ${fmtSec(v)}`,
        'kube-proxy sets the IPVS timeouts at every start.',
        [],
      ),
    );
  }
  for (const x of of('flush-stale-udp')) {
    const { vip, port } = x.need;
    const cmds = x.need.staleBackends.map((b) => {
      const addr = b.replace(/ \(not DNAT'ed\)$/, '');
      const host = addr.startsWith('[')
        ? addr.slice(1, addr.indexOf(']'))
        : addr.slice(0, addr.lastIndexOf(':'));
      return b.endsWith("(not DNAT'ed)")
        ? {
            label: `entries never DNAT'ed`,
            text: `conntrack -D -p udp --orig-dst ${vip} --orig-port-dst ${port} --reply-src ${vip}`,
          }
        : {
            label: `entries to ${addr}`,
            text: `conntrack -D -p udp --orig-dst ${vip} --orig-port-dst ${port} --reply-src ${host}`,
          };
    });
    add({
      id: `node-flush-stale-udp-${vip}-${port}`,
      scope: 'node',
      title: `Delete stale UDP conntrack entries of ${vip}:${port}`,
      rationale:
        "Deleted entries are re-created on the next packet and DNAT'ed to a current endpoint.",
      fixes: [x.findingId],
      commands: cmds,
      warnings: [
        'kube-proxy should clear these itself (conntrack reconciler since 1.32); if they come back, upgrade kube-proxy (PR #139629).',
      ],
    });
  }
  for (const x of of('kube-proxy-flags-to-config')) {
    const fields: { path: string; value: string }[] = [];
    for (const flag of x.need.flags) {
      const eq = flag.indexOf('=');
      const name = eq < 0 ? (flag.split(/\s+/)[0] ?? flag) : flag.slice(0, eq);
      const value = eq < 0 ? (flag.split(/\s+/)[1] ?? '<value>') : flag.slice(eq + 1);
      const path = KUBE_PROXY_FLAG_FIELDS[name];
      if (path) fields.push({ path, value });
    }
    if (fields.length === 0) continue;
    add({
      id: 'kube-proxy-flags-to-config',
      scope: 'kube-proxy',
      title: 'Move the ignored kube-proxy flags into its configuration file',
      rationale:
        'Only the --config file is read when it is given; its fields are what kube-proxy applies.',
      fixes: [x.findingId],
      commands: [
        { label: 'KubeProxyConfiguration', text: kubeProxyPatch(fields) },
        { label: 'restart', text: 'kubectl -n kube-system rollout restart daemonset/kube-proxy' },
      ],
      warnings: [...KUBE_PROXY_WARNINGS],
    });
  }
  for (const x of otherSysctl) {
    add(
      nodeSysctl(
        `node-sysctl-${x.key.split('.').pop() ?? x.key}`,
        x.key,
        x.value,
        [x.id],
        `Set ${x.key} back to ${x.value}`,
        'This is the value kube-proxy is configured to write.',
        ['kube-proxy rewrites it at its next start.'],
      ),
    );
  }
  const ext = of('external-timeout');
  if (ext.length > 0) {
    const v = friendlyAbove(Math.max(...ext.map((x) => x.need.idleSec)));
    const preset = ctx.pathLayers.find((l) => l.preset)?.preset;
    const info = preset ? CLOUD_PRESETS[preset] : undefined;
    add(
      {
        id: 'external-idle-timeout',
        scope: 'external',
        title: `Raise the idle timeout of the load balancer / NAT on the path above ${fmtSec(v)}`,
        rationale:
          'The external element then keeps idle flows until their keepalive refreshes them.',
        fixes: ext.map((x) => x.findingId),
        commands: [
          {
            label: info ? info.label : 'cloud element',
            text: info
              ? `${info.knob} ≥ ${v} s (${info.doc})`
              : `set the idle timeout of the element on the path to at least ${v} s`,
          },
        ],
        warnings: [
          'Some elements cannot be changed (AWS NAT gateway 350 s, GCP VPC 600 s): keepalive is then the only fix.',
        ],
      },
      {
        kind: 'layer',
        layer: info ? 'the cloud idle timer' : 'the path idle timer',
        rearmS: v,
        appliesToExisting: false,
      },
    );
  }
  for (const x of of('ipvs-conn-reuse')) {
    add(
      nodeSysctl(
        'node-ipvs-conn-reuse-mode',
        'net.ipv4.vs.conn_reuse_mode',
        x.need.value,
        [x.findingId],
        `Set net.ipv4.vs.conn_reuse_mode=${x.need.value}`,
        x.need.value === 1
          ? 'New connections that reuse a source port are then rescheduled away from weight-0 servers (kernel ≥ 5.9).'
          : 'Avoids the SYN drop of conntrack + port reuse on kernels before 5.9 (what kube-proxy does there).',
        ['kube-proxy sets conn_reuse_mode=0 at start on kernels 4.1–5.8.'],
      ),
    );
  }

  // Merge duplicates (same id from several needs), then order: rank, id.
  const merged = new Map<string, Suggestion>();
  for (const s of out) {
    const prev = merged.get(s.id);
    merged.set(
      s.id,
      prev ? { ...prev, fixes: [...new Set([...prev.fixes, ...s.fixes])].sort() } : s,
    );
  }
  const { kept, refused } = checkSuggestions([...merged.values()], trials, sets, ctx);
  const suggestions = kept.sort(
    (a, b) => a.rank - b.rank || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  const byFinding = new Map<string, string[]>();
  for (const s of suggestions)
    for (const f of s.fixes) (byFinding.get(f) ?? byFinding.set(f, []).get(f))?.push(s.id);
  return { suggestions, byFinding, unfixed: unfixedFindings(refused, suggestions, byFinding) };
}

/**
 * A finding whose every suggestion the race refused would otherwise just lose its fix line, which
 * reads as "no fix needed": it says why each was refused, and which kept suggestion (of another
 * finding) saves the same flows, or that no change kdiag knows saves them.
 */
export function unfixedFindings(
  refused: readonly Refused[],
  kept: readonly Suggestion[],
  byFinding: ReadonlyMap<string, readonly string[]>,
): Map<string, string> {
  const mine = new Map<string, Refused[]>();
  for (const r of refused)
    for (const f of r.fixes)
      if (!byFinding.has(f)) (mine.get(f) ?? mine.set(f, []).get(f))?.push(r);
  const out = new Map<string, string>();
  for (const [f, list] of mine) {
    const why = list.slice(0, 3).map((r) => `${r.id} ${r.reason}`);
    if (list.length > 3) why.push(`${list.length - 3} more`);
    const tried = new Set(list.flatMap((r) => r.flows));
    const savers = kept
      .filter((s) => s.checked?.saves.some((id) => tried.has(id)))
      .map((s) => s.id);
    out.set(
      f,
      savers.length > 0
        ? `its own change does not help (${why.join('; ')}); ${savers.join(', ')} saves its flows`
        : `no change kdiag can make saves these flows: ${why.join('; ')}`,
    );
  }
  return out;
}

const EST_SPEC = CT_TCP_TIMEOUTS.ESTABLISHED ?? {
  sysctl: 'net.netfilter.nf_conntrack_tcp_timeout_established',
  kernel: 432000,
};

/** The host's ESTABLISHED timeout in force, when it was read (a kernel default is no reading). */
function estInForce(ctx: PathContext): number | undefined {
  const v = sysctlInForce(ctx, EST_SPEC, undefined);
  return v.evidence ? v.value : undefined;
}

function kubeProxy(
  id: string,
  field: string,
  flag: string,
  value: string,
  fixes: readonly string[],
  title: string,
  rationale: string,
  warnings: readonly string[],
): Omit<Suggestion, 'rank'> {
  return {
    id,
    scope: 'kube-proxy',
    title,
    rationale,
    fixes,
    commands: [
      { label: 'KubeProxyConfiguration', text: kubeProxyPatch([{ path: field, value }]) },
      { label: 'equivalent flag (only without --config)', text: `${flag}=${value}` },
      { label: 'restart', text: 'kubectl -n kube-system rollout restart daemonset/kube-proxy' },
    ],
    warnings: [...KUBE_PROXY_WARNINGS, ...warnings],
  };
}

function ipvsSet(
  id: string,
  tcp: number,
  tcpfin: number,
  fixes: readonly string[],
  title: string,
  rationale: string,
): Omit<Suggestion, 'rank'> {
  return {
    id,
    scope: 'ipvs',
    title,
    rationale,
    fixes,
    commands: [{ label: 'now (0 = keep)', text: `ipvsadm --set ${tcp} ${tcpfin} 0` }],
    warnings: [
      'kube-proxy sets the IPVS timeouts again at its start when ipvs.tcpTimeout/tcpFinTimeout are non-zero: set them there too.',
      'Only IPVS mode uses these timers.',
    ],
    change: { kind: 'ipvs-timeout', tcp, tcpfin, udp: 0 },
  };
}

export type { KeepalivePlan };
