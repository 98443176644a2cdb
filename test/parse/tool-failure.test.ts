// The reason line of a failed tool, from stderr captured on this machine (Linux 6.18, bpftrace
// 0.17.0, no kprobe_events, no ip_vs module).
import { describe, expect, it } from 'vitest';
import { failureLine } from '../../src/parse/tool-failure.js';

const MEMLOCK =
  'ERROR: Unknown error -1: couldn\'t set RLIMIT_MEMLOCK for bpftrace. If your program is not loading, you can try "ulimit -l 8192" to fix the problem';

describe('failureLine', () => {
  it('a kprobe on a kernel without kprobe_events: the OS reason, not the noise', () => {
    const stderr = [
      MEMLOCK,
      'stdin:1:1-22: WARNING: tcp_v4_connect is not traceable (either non-existing, inlined, or marked as "notrace"); attaching to it will likely fail',
      'kprobe:tcp_v4_connect {} BEGIN { exit(); }',
      '~~~~~~~~~~~~~~~~~~~~~',
      'create_probe_event: open(/sys/kernel/tracing/kprobe_events): No such file or directory',
      "ERROR: Error attaching probe: 'kprobe:tcp_v4_connect'",
      '',
    ].join('\n');
    expect(failureLine(stderr)).toBe(
      'create_probe_event: open(/sys/kernel/tracing/kprobe_events): No such file or directory',
    );
  });
  it('kfunc unavailable', () => {
    const stderr = [
      MEMLOCK,
      'stdin:1:1-21: ERROR: kfunc/kretfunc not available for your kernel version.',
      'kfunc:tcp_v4_connect {} BEGIN { exit(); }',
      '~~~~~~~~~~~~~~~~~~~~',
      '',
    ].join('\n');
    expect(failureLine(stderr)).toBe('kfunc/kretfunc not available for your kernel version.');
  });
  it('ipvsadm without ip_vs', () => {
    const stderr = [
      'modprobe: FATAL: Module ip_vs not found in directory /lib/modules/6.18.44-fc-v1272',
      "Can't initialize ipvs: Protocol not available",
      'Are you sure that IP Virtual Server is built in the kernel or as module?',
      '',
    ].join('\n');
    expect(failureLine(stderr)).toBe("Can't initialize ipvs: Protocol not available");
  });
  it('strips control characters, keeps one line, bounds the length', () => {
    expect(failureLine('ERROR: bad\x1b[31m thing\r\n')).toBe('bad thing');
    expect(failureLine(`ERROR: ${'x'.repeat(400)}`).length).toBe(160);
    expect(failureLine('')).toBe('');
  });
});
