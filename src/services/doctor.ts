// kdiag doctor: turns the host's capabilities into checks (ok / degraded / blocking), each naming
// the kdiag features a missing piece disables, and an exit code.
import type { HostCapabilities } from '../sources/host-capabilities.js';
import type { ProofResult } from '../sources/capability-proofs.js';
import { PROBES } from '../parse/probes/catalog.js';
import { kubeProxyModeCheck } from './doctor-proxy-mode.js';
import { describeDataPlane, detectDataPlane, type DataPlaneItem } from '../analysis/data-plane.js';

export type CheckLevel = 'ok' | 'info' | 'warn' | 'fail';

export interface DoctorCheck {
  readonly id: string;
  readonly level: CheckLevel;
  /** What was found, one short line. */
  readonly summary: string;
  /** What kdiag cannot do because of it (warn/fail). */
  readonly disables?: string;
  /** What to do about it, imperative. */
  readonly fix?: string;
}

export interface DoctorReport {
  readonly checks: DoctorCheck[];
  /** 0: everything `kdiag trace` needs is there; 1: degraded; 2: `kdiag trace` cannot run. */
  readonly exitCode: 0 | 1 | 2;
  readonly probes: { readonly id: string; readonly usable: boolean; readonly why?: string }[];
  /** The data planes found on the host, with what kdiag can and cannot read of each. */
  readonly dataPlane: readonly DataPlaneItem[];
  readonly host: HostCapabilities;
}

const MIN_BPFTRACE = [0, 17];

function versionAtLeast(v: string, min: readonly number[]): boolean {
  const parts = v.split('.').map(Number);
  for (let i = 0; i < min.length; i++) {
    const a = parts[i] ?? 0;
    if (a !== min[i]) return a > min[i]!;
  }
  return true;
}

/**
 * Judges host capabilities for kdiag.
 * @example
 * const report = diagnoseHost(await detectHostCapabilities());
 * process.exitCode = report.exitCode;
 */
export function diagnoseHost(
  h: HostCapabilities,
  /** host/vantage.ts's warning: kdiag outside the node's namespaces, or unable to tell. */
  vantage?: string,
): DoctorReport {
  const checks: DoctorCheck[] = [];
  const add = (c: DoctorCheck) => checks.push(c);

  add({ id: 'kernel', level: 'ok', summary: `Linux ${h.kernel}` });
  if (vantage !== undefined)
    add({
      id: 'vantage',
      level: 'warn',
      summary: vantage.replace(/^warning: /, ''),
      disables:
        "trust that what kdiag reads is the node's (an empty table may be another namespace's)",
      fix: 'run kdiag on the host, or in a container with --network=host --pid=host --privileged (docs/install.md)',
    });
  add(
    h.root
      ? { id: 'root', level: 'ok', summary: 'running as root' }
      : {
          id: 'root',
          level: 'fail',
          summary: 'not root',
          disables: 'all probes (bpftrace needs root)',
          fix: 're-run with sudo',
        },
  );

  const bt = h.bpftrace;
  if (bt.path === undefined) {
    add({
      id: 'bpftrace',
      level: 'fail',
      summary: 'bpftrace not found on PATH',
      disables: 'all probes',
      fix: 'apt-get install bpftrace',
    });
  } else if (bt.version !== undefined && !versionAtLeast(bt.version, MIN_BPFTRACE)) {
    add({
      id: 'bpftrace',
      level: 'fail',
      summary: `bpftrace ${bt.version} (< 0.17)`,
      disables: 'all probes (no -f json ready line)',
      fix: 'install bpftrace >= 0.17',
    });
  } else {
    add({
      id: 'bpftrace',
      level: 'ok',
      summary: `bpftrace ${bt.version ?? '(version unknown)'} at ${bt.path}`,
    });
  }
  const proof = (id: ProofResult['id']) => h.proofs?.find((p) => p.id === id);
  if (h.proofs) {
    // Each probe type as an attach proved it, never as bpftrace --info claims it.
    for (const id of ['tracepoint', 'kprobe', 'kfunc'] as const) add(attachCheck(id, proof(id)));
  } else {
    const types = Object.entries(bt.probeTypes);
    if (types.length > 0)
      add({
        id: 'probe-types',
        level: 'info',
        summary: `probe types (not proven by an attach): ${types.map(([t, v]) => `${t} ${v ? 'yes' : 'no'}`).join(', ')}`,
      });
  }

  add(
    h.tracefs !== undefined
      ? { id: 'tracefs', level: 'ok', summary: `tracefs at ${h.tracefs}` }
      : {
          id: 'tracefs',
          level: 'fail',
          summary: 'tracefs not mounted',
          disables: 'all probes (reason tables and tracepoint checks)',
          fix: 'mount -t tracefs tracefs /sys/kernel/tracing',
        },
  );
  const btfRead = proof('btf');
  add(
    h.btf && btfRead?.ok !== false
      ? {
          id: 'btf',
          level: 'ok',
          summary: `BTF at /sys/kernel/btf/vmlinux${btfRead?.ok ? ' (magic read)' : ''}`,
        }
      : {
          id: 'btf',
          level: 'fail',
          summary: h.btf ? `kernel BTF unreadable: ${btfRead?.detail ?? ''}` : 'no kernel BTF',
          disables: 'all probes (they read struct sock/sk_buff)',
          fix: 'use a kernel built with CONFIG_DEBUG_INFO_BTF=y',
        },
  );
  add(
    h.hz
      ? { id: 'hz', level: 'ok', summary: `HZ ${h.hz.hz} (from ${h.hz.source})` }
      : {
          id: 'hz',
          level: 'warn',
          summary: 'kernel HZ unknown (no /boot/config-*, no /proc/config.gz)',
          disables: 'trace_tcp_state (keepalive values are jiffies)',
          fix: 'modprobe configs',
        },
  );

  // Tracepoints and their fields, then per probe.
  const byName = new Map(h.tracepoints.map((t) => [t.name, t]));
  for (const t of h.tracepoints) {
    if (!t.present) {
      const users = PROBES.filter((p) => p.tracepoints.some((x) => x.name === t.name)).map(
        (p) => p.id,
      );
      add({
        id: `tp:${t.name}`,
        level: h.tracefs === undefined ? 'info' : 'warn',
        summary: `tracepoint ${t.name} missing`,
        disables: users.join(', '),
      });
      continue;
    }
    if (t.missingFields.length > 0) {
      const users = PROBES.filter((p) => p.tracepoints.some((x) => x.name === t.name)).map(
        (p) => p.id,
      );
      add({
        id: `tp:${t.name}`,
        level: 'warn',
        summary: `${t.name} lacks ${t.missingFields.join(', ')}`,
        disables: users.join(', '),
      });
      continue;
    }
    const tables = Object.entries(t.symbolTables).filter(([f]) => f === 'reason');
    const note = tables.length > 0 ? ` (reason: ${tables[0]![1]} names)` : '';
    for (const o of t.missingOptional)
      add({
        id: `tp:${t.name}:${o.name}`,
        level: 'warn',
        summary: `${t.name} has no ${o.name}`,
        disables: o.without,
      });
    if (t.missingOptional.length === 0)
      add({ id: `tp:${t.name}`, level: 'ok', summary: `${t.name}${note}` });
  }
  const probes = PROBES.map((p) => {
    const bad = p.tracepoints.find((x) => {
      const c = byName.get(x.name);
      return !c || !c.present || c.missingFields.length > 0;
    });
    const hzMissing = p.templates.includes('hz') && !h.hz;
    const why = bad ? `needs ${bad.name}` : hzMissing ? 'needs the kernel HZ' : undefined;
    return { id: p.id, usable: why === undefined, ...(why === undefined ? {} : { why }) };
  });

  // Conntrack, IPVS, kube-proxy: not needed by the probes, needed by other kdiag features.
  const ct = h.conntrack;
  add(
    ct.tool
      ? { id: 'conntrack-tool', level: 'ok', summary: `conntrack ${ct.version ?? ''}`.trim() }
      : {
          id: 'conntrack-tool',
          level: 'warn',
          summary: 'conntrack tool not found',
          disables: 'conntrack table and event views',
          fix: 'apt-get install conntrack',
        },
  );
  // conntrack-tools 1.4.7 and 1.4.8 apply -b to a socket that listens to no event group; kdiag sizes
  // the event socket itself through pidfd_getfd, which needs perl (sources/event-socket-buffer.ts).
  if (ct.tool) {
    add(
      ct.eventBufferFix === false
        ? {
            id: 'conntrack-events-buffer',
            level: 'warn',
            summary:
              "perl not found: conntrack -E's event socket stays at net.core.rmem_default, so bursts of more than ~160 events are lost (trace counts every one)",
            fix: 'apt-get install perl-base',
          }
        : {
            id: 'conntrack-events-buffer',
            level: 'ok',
            summary:
              "conntrack -E's event socket: kdiag gives it a 16 MiB buffer itself (conntrack's -b sizes another socket)",
          },
    );
  }
  add(
    ct.module
      ? { id: 'nf_conntrack', level: 'ok', summary: 'nf_conntrack loaded' }
      : {
          id: 'nf_conntrack',
          level: 'info',
          summary: 'nf_conntrack not loaded here (no NAT state to track)',
        },
  );
  const ctEvents = proof('conntrack-events');
  if (ctEvents?.ok === false)
    add({
      id: 'conntrack-events-open',
      level: 'warn',
      summary: `conntrack -E cannot listen: ${ctEvents.detail}`,
      disables: 'conntrack expiry events (FM-1, FM-4 proof)',
    });
  else if (ctEvents?.ok)
    add({ id: 'conntrack-events-open', level: 'ok', summary: 'conntrack -E listens for events' });
  if (ct.module) {
    add(
      ct.events === 0
        ? {
            id: 'ct-events',
            level: 'warn',
            summary: 'nf_conntrack_events = 0',
            disables: 'conntrack expiry events (FM-1, FM-4 proof)',
            fix: 'sysctl -w net.netfilter.nf_conntrack_events=1',
          }
        : { id: 'ct-events', level: 'ok', summary: `nf_conntrack_events = ${ct.events ?? '?'}` },
    );
  }
  const kp = h.kubeProxy;
  const ipvsNeeded = kp?.mode === 'ipvs';
  const ipvsList = proof('ipvs');
  if (h.ipvs.module && h.ipvs.tool && ipvsList?.ok === false)
    add({
      id: 'ipvs',
      level: 'warn',
      summary: `IPVS loaded, but ipvsadm -Ln fails: ${ipvsList.detail}`,
      disables: 'IPVS service and timeout views',
    });
  else if (h.ipvs.module)
    add({
      id: 'ipvs',
      level: h.ipvs.tool ? 'ok' : 'warn',
      summary: `IPVS loaded${h.ipvs.tool ? (ipvsList?.ok ? ', ipvsadm -Ln reads it' : ', ipvsadm found') : ', ipvsadm missing'}`,
      ...(h.ipvs.tool
        ? {}
        : { disables: 'IPVS service and timeout views', fix: 'apt-get install ipvsadm' }),
    });
  else
    add({
      id: 'ipvs',
      level: ipvsNeeded ? 'warn' : 'info',
      summary: 'IPVS not loaded (/proc/net/ip_vs missing)',
      ...(ipvsNeeded ? { disables: 'IPVS checks (FM-2, FM-3, FM-10)' } : {}),
    });
  if (kp) {
    add({
      id: 'kube-proxy',
      level: kp.configFound || kp.cmdline.length > 0 ? 'ok' : 'warn',
      summary: `kube-proxy pid ${kp.pid}, mode ${kp.mode === undefined ? 'unknown' : kp.mode || 'default'}${kp.configPath ? `, config ${kp.configPath}${kp.configFound ? '' : ' (unreadable)'}` : ''}`,
    });
  } else {
    add({ id: 'kube-proxy', level: 'info', summary: 'no kube-proxy process on this host' });
  }
  add(kubeProxyModeCheck(h));

  const nft = proof('nft');
  if (nft && nft.ok !== undefined)
    add(
      nft.ok
        ? { id: 'nft', level: 'ok', summary: 'nft list tables works' }
        : {
            id: 'nft',
            level: kp?.mode === 'nftables' ? 'warn' : 'info',
            summary: `nft list tables fails: ${nft.detail}`,
            ...(kp?.mode === 'nftables' ? { disables: "kube-proxy's nftables rules" } : {}),
          },
    );

  // The data plane: what moves Service traffic here, and what kdiag can read of it.
  const dataPlane = h.dataPlane ? detectDataPlane(h.dataPlane) : [];
  if (h.dataPlane) {
    const lines = describeDataPlane(dataPlane);
    if (dataPlane.length === 0)
      add({ id: 'data-plane', level: 'info', summary: `data plane: ${lines[0] ?? ''}` });
    dataPlane.forEach((d, i) =>
      add({
        id: `data-plane:${d.name}`,
        level: d.blind.some((b) => b.includes(' not read')) ? 'warn' : 'info',
        summary: `data plane: ${lines[i] ?? d.name}`,
      }),
    );
  }

  const blocking = checks.some((c) => c.level === 'fail');
  const degraded = checks.some((c) => c.level === 'warn') || probes.some((p) => !p.usable);
  return { checks, exitCode: blocking ? 2 : degraded ? 1 : 0, probes, dataPlane, host: h };
}

/** One probe type as its attach proof left it: yes, no with the tool's reason, or not tried. */
function attachCheck(
  id: 'tracepoint' | 'kprobe' | 'kfunc',
  p: ProofResult | undefined,
): DoctorCheck {
  if (p === undefined || p.ok === undefined)
    return {
      id: `attach:${id}`,
      level: 'info',
      summary: `${id} attach: not tried${p ? ` (${p.detail})` : ''}`,
    };
  if (p.ok) return { id: `attach:${id}`, level: 'ok', summary: `${id} attach: yes` };
  // kdiag's probes use tracepoints only: a kernel without kprobes or kfuncs loses nothing of them.
  return id === 'tracepoint'
    ? {
        id: `attach:${id}`,
        level: 'fail',
        summary: `tracepoint attach: no — ${p.detail}`,
        disables: 'all probes (they use tracepoints)',
      }
    : { id: `attach:${id}`, level: 'info', summary: `${id} attach: no — ${p.detail}` };
}

const MARK: Record<CheckLevel, string> = { ok: 'ok  ', info: 'info', warn: 'warn', fail: 'FAIL' };

function wrap(text: string, width: number, indent: string): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && indent.length + line.length + 1 + word.length > width) {
      out.push(indent + line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') out.push(indent + line);
  return out.map((l) => (l.length > width ? `${l.slice(0, width - 1)}…` : l));
}

/** The text report, every line under 80 columns. */
export function formatDoctorText(r: DoctorReport, width = 79): string {
  const lines: string[] = [];
  for (const c of r.checks) {
    lines.push(
      ...wrap(c.summary, width, `${MARK[c.level]}  `).map((l, i) =>
        i === 0 ? l : `      ${l.slice(6)}`,
      ),
    );
    if (c.disables) lines.push(...wrap(`disables: ${c.disables}`, width, '      '));
    if (c.fix) lines.push(...wrap(`fix: ${c.fix}`, width, '      '));
  }
  lines.push('');
  lines.push(
    ...wrap(
      `probes: ${r.probes.map((p) => (p.usable ? p.id : `${p.id} (off: ${p.why})`)).join(', ')}`,
      width,
      '',
    ),
  );
  lines.push(
    r.exitCode === 0
      ? 'Ready: kdiag trace can run with every probe.'
      : r.exitCode === 1
        ? 'Degraded: kdiag trace runs, some features are off.'
        : "Blocked: kdiag trace can't run here.",
  );
  return `${lines.join('\n')}\n`;
}
