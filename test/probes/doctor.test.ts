// kdiag doctor's judgement on synthetic hosts: exit codes 0/1/2, what each gap disables, 80 columns.
import { describe, expect, it } from 'vitest';
import { diagnoseHost, formatDoctorText } from '../../src/services/doctor.js';
import type { HostCapabilities } from '../../src/sources/host-capabilities.js';
import { allTracepoints } from '../../src/parse/probes/catalog.js';
import { hzFromConfig, parseBpftraceInfoProbeTypes, parseBpftraceVersion } from '../../src/sources/host-capabilities.js';

function host(over: Partial<HostCapabilities> = {}): HostCapabilities {
  return {
    kernel: '6.18.44',
    root: true,
    bpftrace: { path: '/usr/bin/bpftrace', version: '0.17.0', probeTypes: { kprobe: true, tracepoint: true, kfunc: false } },
    tracefs: '/sys/kernel/tracing',
    btf: true,
    hz: { hz: 250, source: '/proc/config.gz' },
    tracepoints: allTracepoints().map((t) => ({ name: t.name, present: true, fields: [...t.fields, ...(t.optionalFields ?? []).map((o) => o.name)], missingFields: [], missingOptional: [], symbolTables: (t.name === 'skb:kfree_skb' ? { reason: 127 } : {}) as Record<string, number> })),
    conntrack: { tool: '/usr/sbin/conntrack', version: '1.4.7', module: true, events: 1 },
    ipvs: { tool: undefined, module: false },
    kubeProxy: undefined,
    ...over,
  };
}

describe('kdiag doctor', () => {
  it('is ready (exit 0) when everything kdiag trace needs is there', () => {
    const r = diagnoseHost(host());
    expect(r.exitCode).toBe(0);
    expect(r.probes.every((p) => p.usable)).toBe(true);
    expect(formatDoctorText(r)).toMatch(/Ready/);
    // kdiag sizes conntrack -E's event socket itself (conntrack's -b misses it)
    expect(r.checks.find((c) => c.id === 'conntrack-events-buffer')).toMatchObject({ level: 'ok' });
  });

  it('warns (degraded, exit 1) when kdiag runs outside the node or cannot tell', () => {
    const w = "warning: kdiag can't read /proc/1/ns/net (not root, hidepid, or a restricted container): can't tell whether this is the node's network namespace";
    const r = diagnoseHost(host(), w);
    expect(r.checks.find((c) => c.id === 'vantage')).toMatchObject({ level: 'warn', summary: w.replace('warning: ', '') });
    expect(r.exitCode).toBe(1);
    const text = formatDoctorText(r);
    expect(text).toMatch(/can't read \/proc\/1\/ns\/net/);
    for (const l of text.split('\n')) expect(l.length).toBeLessThan(80);
  });

  it('warns that bursts of events are lost when perl is missing to size the event socket', () => {
    const h = host();
    const r = diagnoseHost({ ...h, conntrack: { ...h.conntrack, eventBufferFix: false } });
    const c = r.checks.find((x) => x.id === 'conntrack-events-buffer');
    expect(c).toMatchObject({ level: 'warn', fix: 'apt-get install perl-base' });
    expect(c!.summary).toMatch(/bursts of more than ~160 events are lost/);
  });

  it('is degraded (exit 1) without the tcp_send_reset reason, and says what that disables', () => {
    const h = host();
    const tps = h.tracepoints.map((t) => (t.name === 'tcp:tcp_send_reset' ? { ...t, missingOptional: [{ name: 'reason', without: 'no reset reason; NO_SOCKET resets seen only as kfree_skb drops' }] } : t));
    const r = diagnoseHost({ ...h, tracepoints: tps });
    expect(r.exitCode).toBe(1);
    expect(formatDoctorText(r)).toMatch(/NO_SOCKET resets seen only as kfree_skb drops/);
  });

  it('turns a kernel without kfree_skb reason into an unusable drop probe', () => {
    const h = host();
    const tps = h.tracepoints.map((t) => (t.name === 'skb:kfree_skb' ? { ...t, missingFields: ['reason'] } : t));
    const r = diagnoseHost({ ...h, tracepoints: tps });
    expect(r.exitCode).toBe(1);
    expect(r.probes.find((p) => p.id === 'trace_skb_drop')).toMatchObject({ usable: false, why: 'needs skb:kfree_skb' });
  });

  it.each([
    ['not root', { root: false }],
    ['no bpftrace', { bpftrace: { path: undefined, version: undefined, probeTypes: {} } }],
    ['old bpftrace', { bpftrace: { path: '/x', version: '0.12.1', probeTypes: {} } }],
    ['no tracefs', { tracefs: undefined }],
    ['no BTF', { btf: false }],
  ] as const)('cannot run (exit 2) with %s and offers a fix', (_name, over) => {
    const r = diagnoseHost(host(over as Partial<HostCapabilities>));
    expect(r.exitCode).toBe(2);
    const fail = r.checks.find((c) => c.level === 'fail')!;
    expect(fail.disables).toBeDefined();
    if (_name === 'no tracefs') expect(fail.fix).toBe('mount -t tracefs tracefs /sys/kernel/tracing');
  });

  it('needs IPVS only when kube-proxy runs in ipvs mode; HZ unknown degrades keepalive', () => {
    const kp = { pid: 42, cmdline: ['kube-proxy', '--config=/var/lib/kube-proxy/config.conf'], mode: 'ipvs', configPath: '/var/lib/kube-proxy/config.conf', configFound: true };
    expect(diagnoseHost(host({ kubeProxy: kp })).checks.find((c) => c.id === 'ipvs')?.level).toBe('warn');
    expect(diagnoseHost(host()).checks.find((c) => c.id === 'ipvs')?.level).toBe('info');
    const noHz = diagnoseHost(host({ hz: undefined }));
    expect(noHz.exitCode).toBe(1);
    expect(noHz.probes.find((p) => p.id === 'trace_tcp_state')?.usable).toBe(false);
  });

  it('keeps every text line under 80 columns, even with long paths', () => {
    const kp = { pid: 4242, cmdline: [], mode: 'iptables', configPath: `/very/long/${'x'.repeat(90)}/config.conf`, configFound: false };
    const text = formatDoctorText(diagnoseHost(host({ root: false, tracefs: undefined, hz: undefined, kubeProxy: kp })));
    for (const line of text.split('\n')) expect(line.length, line).toBeLessThan(80);
  });

  it('reads bpftrace --version/--info and the kernel config', () => {
    expect(parseBpftraceVersion('bpftrace v0.17.0\n')).toBe('0.17.0');
    expect(parseBpftraceInfoProbeTypes('Probe types\n  kprobe: yes\n  tracepoint: yes\n  kfunc: no\n  iter:task: no\n\nOther\n  x: yes\n')).toEqual({ kprobe: true, tracepoint: true, kfunc: false, 'iter:task': false });
    expect(parseBpftraceInfoProbeTypes('garbage')).toEqual({});
    expect(hzFromConfig('# x\nCONFIG_HZ_250=y\nCONFIG_HZ=250\n')).toBe(250);
  });

  it('says each probe type as its attach proved it: kprobe no with the reason, not a failure', () => {
    const proofs = [
      { id: 'tracepoint' as const, ok: true, what: 'bpftrace -e …', detail: 'exit 0' },
      { id: 'kprobe' as const, ok: false, what: 'bpftrace -e …', detail: 'create_probe_event: open(/sys/kernel/tracing/kprobe_events): No such file or directory' },
      { id: 'kfunc' as const, ok: undefined, what: 'bpftrace -e …', detail: 'not tried: not root' },
    ];
    const r = diagnoseHost(host({ proofs }));
    expect(r.checks.find((c) => c.id === 'attach:kprobe')).toEqual({
      id: 'attach:kprobe',
      level: 'info',
      summary: 'kprobe attach: no — create_probe_event: open(/sys/kernel/tracing/kprobe_events): No such file or directory',
    });
    expect(r.checks.find((c) => c.id === 'attach:kfunc')?.summary).toBe('kfunc attach: not tried (not tried: not root)');
    expect(r.checks.some((c) => c.id === 'probe-types')).toBe(false);
    expect(r.exitCode).toBe(0);
    const noTp = diagnoseHost(host({ proofs: [{ ...proofs[0]!, ok: false, detail: 'Permission denied' }] }));
    expect(noTp.exitCode).toBe(2);
    expect(formatDoctorText(noTp)).toMatch(/tracepoint attach: no — Permission denied/);
  });

  it('a listener or a list that fails is said in the tool words', () => {
    const r = diagnoseHost(
      host({
        ipvs: { tool: '/usr/sbin/ipvsadm', module: true },
        proofs: [
          { id: 'conntrack-events', ok: false, what: 'conntrack -E', detail: 'Operation not permitted' },
          { id: 'ipvs', ok: false, what: 'ipvsadm -Ln', detail: "Can't initialize ipvs: Protocol not available" },
          { id: 'btf', ok: false, what: 'read /sys/kernel/btf/vmlinux', detail: 'no BTF magic at the start of the file' },
        ],
      }),
    );
    expect(r.checks.find((c) => c.id === 'conntrack-events-open')?.summary).toBe('conntrack -E cannot listen: Operation not permitted');
    expect(r.checks.find((c) => c.id === 'ipvs')?.summary).toMatch(/ipvsadm -Ln fails: Can't initialize ipvs/);
    expect(r.checks.find((c) => c.id === 'btf')).toMatchObject({ level: 'fail' });
    expect(r.exitCode).toBe(2);
  });

  it('names the data plane and what kdiag cannot read of it', () => {
    const r = diagnoseHost(host({ dataPlane: { processes: ['cilium-agent'], bpfMaps: ['cilium_ct4_global'], tools: [] } }));
    const c = r.checks.find((x) => x.id === 'data-plane:cilium');
    expect(c?.level).toBe('warn');
    expect(c?.summary).toContain('Cilium (BPF): cilium-agent process');
    expect(c?.summary).toContain('BPF conntrack (cilium_ct*) not read — cilium-dbg not found');
    expect(r.dataPlane.map((d) => d.name)).toEqual(['cilium']);
    expect(diagnoseHost(host({ dataPlane: {} })).checks.find((x) => x.id === 'data-plane')?.summary).toMatch(/no data plane recognised/);
  });
});

