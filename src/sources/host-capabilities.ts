// Probes the host for what kdiag needs: root, bpftrace (--version, --info), tracefs and the
// format of every tracepoint the probes use, BTF, HZ (/boot/config-*, /proc/config.gz),
// conntrack and IPVS (tools, /proc), and a running kube-proxy (/proc/*/comm, cmdline, config).
import { readFile } from 'node:fs/promises';
import { release } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { run, which } from '../host/exec.js';
import { pathExists } from '../host/atomic-file.js';
import { readKubeProxy } from '../host/kube-proxy.js';
import { eventFieldNames, findTracefs, readTraceFormat } from '../host/tracefs.js';
import { allTracepoints } from '../parse/probes/catalog.js';
import { isRoot } from '../host/root.js';
import { detectProxyRules, type ProxyRulesSeen } from './proxy-rules.js';
import type { DataPlaneFacts } from '../parse/data-plane-facts.js';
import { readDataPlaneFacts } from '../host/data-plane-facts.js';
import { defaultProofs, runProofs, type ProofResult } from './capability-proofs.js';

export interface KernelHz {
  readonly hz: number;
  /** Where it was read: `/boot/config-6.18.44` or `/proc/config.gz`. */
  readonly source: string;
}

export interface TracepointCapability {
  readonly name: string;
  readonly present: boolean;
  /** Fields of its format file (without common_*), empty when absent. */
  readonly fields: readonly string[];
  /** Fields the probes need that this kernel lacks. */
  readonly missingFields: readonly string[];
  /** Optional fields this kernel lacks, with what is lost. */
  readonly missingOptional: readonly { readonly name: string; readonly without: string }[];
  /** Numeric __print_symbolic tables, by field, number of entries (reason → 127). */
  readonly symbolTables: Readonly<Record<string, number>>;
}

export interface KubeProxyInfo {
  readonly pid: number;
  readonly cmdline: readonly string[];
  /** iptables | ipvs | nftables | '' (default) as flags or config set it; undefined when its config is unreadable. */
  readonly mode: string | undefined;
  readonly configPath: string | undefined;
  readonly configFound: boolean;
}

export interface HostCapabilities {
  readonly kernel: string;
  readonly root: boolean;
  readonly bpftrace: {
    readonly path: string | undefined;
    readonly version: string | undefined;
    /** tracepoint, kprobe, kfunc: yes/no as an attach proved it (absent: not tried). */
    readonly probeTypes: Readonly<Record<string, boolean>>;
  };
  /** Each capability proven by a tiny attach or read (capability-proofs.ts). */
  readonly proofs?: readonly ProofResult[];
  /** What the data plane detection read (analysis/data-plane.ts decides). */
  readonly dataPlane?: DataPlaneFacts;
  readonly tracefs: string | undefined;
  readonly btf: boolean;
  readonly hz: KernelHz | undefined;
  readonly tracepoints: readonly TracepointCapability[];
  readonly conntrack: {
    readonly tool: string | undefined;
    readonly version: string | undefined;
    /** nf_conntrack loaded (in this netns): /proc/sys/net/netfilter/nf_conntrack_max exists. */
    readonly module: boolean;
    /** nf_conntrack_events value (0 = no ctnetlink events, 1 = on, 2 = on when a listener asks). */
    readonly events: number | undefined;
    /** perl is on PATH: kdiag can size conntrack -E's event socket itself (event-socket-buffer.ts). */
    readonly eventBufferFix?: boolean;
  };
  readonly ipvs: { readonly tool: string | undefined; readonly module: boolean };
  readonly kubeProxy: KubeProxyInfo | undefined;
  /** What kube-proxy left in the rules (proxy-rules.ts); absent when not detected. */
  readonly proxyRules?: ProxyRulesSeen;
}

/** CONFIG_HZ from a kernel config text, or undefined. */
export function hzFromConfig(text: string): number | undefined {
  const m = /^CONFIG_HZ=(\d{2,5})$/m.exec(text);
  return m ? Number(m[1]) : undefined;
}

/** The kernel's CONFIG_HZ (jiffies per second), read at run time; undefined when no config is readable. */
export async function readKernelHz(kernel: string = release()): Promise<KernelHz | undefined> {
  const boot = `/boot/config-${kernel}`;
  try {
    const hz = hzFromConfig(await readFile(boot, 'utf8'));
    if (hz !== undefined) return { hz, source: boot };
  } catch {
    // no /boot config
  }
  try {
    const hz = hzFromConfig(gunzipSync(await readFile('/proc/config.gz')).toString('utf8'));
    if (hz !== undefined) return { hz, source: '/proc/config.gz' };
  } catch {
    // no IKCONFIG_PROC
  }
  return undefined;
}

/** Parses `bpftrace --version` ("bpftrace v0.17.0") to "0.17.0". */
export function parseBpftraceVersion(text: string): string | undefined {
  return /bpftrace v?(\d+\.\d+(?:\.\d+)?)/.exec(text)?.[1];
}

/** Parses the "Probe types" section of `bpftrace --info`: name → yes/no. */
export function parseBpftraceInfoProbeTypes(text: string): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  const at = text.indexOf('Probe types');
  if (at < 0) return out;
  for (const line of text.slice(at).split('\n').slice(1)) {
    const m = /^\s+([\w:]+):\s+(yes|no)\b/.exec(line);
    if (!m) {
      if (line.trim() === '' || /^\S/.test(line)) break;
      continue;
    }
    out[m[1]!] = m[2] === 'yes';
  }
  return out;
}

async function bpftraceVersion(path: string | undefined): Promise<string | undefined> {
  if (path === undefined) return undefined;
  const v = await run(['bpftrace', '--version'], { reject: false, timeoutMs: 5000 }).catch(
    () => undefined,
  );
  return v ? parseBpftraceVersion(v.stdout + v.stderr) : undefined;
}

/** Reads what kdiag's probes need of each tracepoint from tracefs. */
export async function tracepointCapabilities(
  root: string | undefined,
): Promise<TracepointCapability[]> {
  const out: TracepointCapability[] = [];
  for (const tp of allTracepoints()) {
    const fmt =
      root === undefined ? undefined : await readTraceFormat(root, tp.name).catch(() => undefined);
    const fields = fmt ? eventFieldNames(fmt) : [];
    out.push({
      name: tp.name,
      present: fmt !== undefined,
      fields,
      missingFields: fmt ? tp.fields.filter((f) => !fields.includes(f)) : [...tp.fields],
      missingOptional: (tp.optionalFields ?? []).filter((o) => !fields.includes(o.name)),
      symbolTables: fmt
        ? Object.fromEntries(
            Object.entries(fmt.symbols).map(([k, v]) => [k, Object.keys(v).length]),
          )
        : {},
    });
  }
  return out;
}

/** A running kube-proxy with its settings as host/kube-proxy.ts reads them (the analysis's decision). */
export async function findKubeProxy(proc = '/proc'): Promise<KubeProxyInfo | undefined> {
  const { discovery: d, configText, settings } = await readKubeProxy({ proc });
  if (d.pid === undefined) return undefined;
  // A config file named but unreadable leaves the mode unknown, not the default.
  const unknown =
    d.configPath !== undefined && configText === undefined && settings.origin === 'config-file';
  const mode = unknown ? undefined : settings.defaulted.includes('mode') ? '' : settings.mode;
  return {
    pid: d.pid,
    cmdline: d.argv ?? [],
    mode,
    configPath: d.configPath,
    configFound: configText !== undefined,
  };
}

export interface DetectOptions {
  /** Called as each proof ends (doctor prints progress on a TTY). */
  readonly onProof?: (r: ProofResult, done: number, total: number) => void;
}

/** Everything `kdiag doctor` reports, read from this host; the proofs run in parallel. */
export async function detectHostCapabilities(o: DetectOptions = {}): Promise<HostCapabilities> {
  const kernel = release();
  const [bpfPath, ctTool, ipvsTool, tracefs, perl] = await Promise.all([
    which('bpftrace'),
    which('conntrack'),
    which('ipvsadm'),
    findTracefs(),
    which('perl'),
  ]);
  const root = isRoot();
  const [version, proofs, btf, hz, tracepoints, ctModule, ctEventsText, ipvsModule, kubeProxy] =
    await Promise.all([
      bpftraceVersion(bpfPath),
      runProofs(defaultProofs(), { root, ...(o.onProof ? { onDone: o.onProof } : {}) }),
      pathExists('/sys/kernel/btf/vmlinux'),
      readKernelHz(kernel),
      tracepointCapabilities(tracefs),
      pathExists('/proc/sys/net/netfilter/nf_conntrack_max'),
      readFile('/proc/sys/net/netfilter/nf_conntrack_events', 'utf8').catch(() => undefined),
      pathExists('/proc/net/ip_vs'),
      findKubeProxy(),
    ]);
  const probeTypes: Record<string, boolean> = {};
  for (const p of proofs)
    if ((p.id === 'tracepoint' || p.id === 'kprobe' || p.id === 'kfunc') && p.ok !== undefined)
      probeTypes[p.id] = p.ok;
  let ctVersion: string | undefined;
  if (ctTool !== undefined) {
    const v = await run(['conntrack', '--version'], { reject: false, timeoutMs: 5000 }).catch(
      () => undefined,
    );
    ctVersion = v ? /v(\d+\.\d+\.\d+)/.exec(v.stdout + v.stderr)?.[1] : undefined;
  }
  const nft = proofs.find((p) => p.id === 'nft');
  const ipvs = proofs.find((p) => p.id === 'ipvs');
  const dataPlane = await readDataPlaneFacts({
    root,
    ...(kubeProxy?.mode !== undefined ? { kubeProxyMode: kubeProxy.mode } : {}),
    ...(nft?.ok ? { nftTables: nft.stdout ?? '' } : {}),
    ...(ipvs?.ok ? { ipvsList: ipvs.stdout ?? '' } : {}),
  });
  const ev = ctEventsText === undefined ? undefined : Number(ctEventsText.trim());
  return {
    kernel,
    root,
    bpftrace: { path: bpfPath, version, probeTypes },
    proofs,
    dataPlane,
    tracefs,
    btf,
    hz,
    tracepoints,
    conntrack: {
      tool: ctTool,
      version: ctVersion,
      module: ctModule,
      events: ev !== undefined && Number.isFinite(ev) ? ev : undefined,
      eventBufferFix: perl !== undefined,
    },
    ipvs: { tool: ipvsTool, module: ipvsModule },
    kubeProxy,
    proxyRules: await detectProxyRules(root),
  };
}
