// The real attach proofs on this kernel: bpftrace attaches a tracepoint; a kprobe attaches only
// where the kernel has kprobe_events, and doctor says no, with the reason, where it has not.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultProofs, runProofs } from '../../src/sources/capability-proofs.js';
import { diagnoseHost } from '../../src/services/doctor.js';
import { detectHostCapabilities } from '../../src/sources/host-capabilities.js';
import { labSkipReason } from '../helpers/lab-guard.js';

const reason = labSkipReason('root', 'bpftrace', 'tracefs');

describe.skipIf(reason)('capability proofs (real kernel)', () => {
  it('tracepoint attaches; kprobe follows kprobe_events', async () => {
    const proofs = defaultProofs().filter((p) => p.id === 'tracepoint' || p.id === 'kprobe');
    const [tp, kp] = await runProofs(proofs, { root: true });
    expect(tp?.ok, tp?.detail).toBe(true);
    if (existsSync('/sys/kernel/tracing/kprobe_events')) expect(kp?.ok, kp?.detail).toBe(true);
    else {
      expect(kp?.ok).toBe(false);
      expect(kp?.detail).toMatch(/kprobe_events|kprobe/);
    }
  }, 120_000);

  it('doctor says kprobe no with the reason where kprobes cannot attach', async () => {
    const r = diagnoseHost(await detectHostCapabilities());
    const kp = r.checks.find((c) => c.id === 'attach:kprobe');
    const tp = r.checks.find((c) => c.id === 'attach:tracepoint');
    expect(tp?.summary).toBe('tracepoint attach: yes');
    if (existsSync('/sys/kernel/tracing/kprobe_events'))
      expect(kp?.summary).toBe('kprobe attach: yes');
    else
      expect(kp?.summary).toBe(
        'kprobe attach: no — create_probe_event: open(/sys/kernel/tracing/kprobe_events): No such file or directory',
      );
    expect(r.host.bpftrace.probeTypes.kprobe).toBe(existsSync('/sys/kernel/tracing/kprobe_events'));
  }, 120_000);
});
