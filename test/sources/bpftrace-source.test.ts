// The bpftrace source without a kernel: probe context from saved tracefs formats, and the refusals.
// On the real kernel: bpftrace-source.lab.test.ts.
import { mkdirSync, mkdtempSync, rmSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createBpftraceSource, buildProbeContext } from '../../src/sources/bpftrace-source.js';
import { probeById } from '../../src/parse/probes/catalog.js';
import { EnvironmentError, UsageError } from '../../src/errors.js';
import { repoRoot } from '../probes/fixtures/build.mjs';

const PROBES_DIR = join(repoRoot, 'probes');
const TRACEFS_FIXTURES = join(repoRoot, 'fixtures/tools/tracefs');

/** A fake tracefs root holding the given saved format files (`6.18/skb_kfree_skb.format` …). */
function fakeTracefs(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'kdiag-tracefs-'));
  for (const [name, from] of Object.entries(files)) {
    const [group, event] = name.split(':') as [string, string];
    mkdirSync(join(root, 'events', group, event), { recursive: true });
    copyFileSync(join(TRACEFS_FIXTURES, from), join(root, 'events', group, event, 'format'));
  }
  return root;
}

describe('bpftrace source without a kernel', () => {
  it('refuses an unknown probe with the list of probes', async () => {
    await expect(createBpftraceSource('nope', { probesDir: PROBES_DIR })).rejects.toBeInstanceOf(
      UsageError,
    );
  });

  it('templates from saved 6.18 formats and turns a kernel without drop reasons into a clear error', async () => {
    const root = fakeTracefs({
      'skb:kfree_skb': '6.18/skb_kfree_skb.format',
      'sock:inet_sock_set_state': '6.18/sock_inet_sock_set_state.format',
      'tcp:tcp_send_reset': '6.1/tcp_tcp_send_reset.format',
      'tcp:tcp_receive_reset': '6.18/tcp_tcp_receive_reset.format',
    });
    const old = fakeTracefs({ 'skb:kfree_skb': '5.10/skb_kfree_skb.format' });
    try {
      const { context } = await buildProbeContext(probeById('trace_skb_drop')!, {
        tracefsCandidates: [root],
      });
      expect(context.dropReasons?.['3']).toBe('NO_SOCKET');
      expect(context.tcpStates?.['1']).toBe('TCP_ESTABLISHED');
      const rst = await buildProbeContext(probeById('trace_tcp_reset')!, {
        tracefsCandidates: [root],
      });
      expect(rst.context.rstReasons).toBeUndefined();
      expect(rst.fields['tcp:tcp_send_reset']).not.toContain('reason');
      const err = await buildProbeContext(probeById('trace_skb_drop')!, {
        tracefsCandidates: [old],
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EnvironmentError);
      expect((err as EnvironmentError).message).toMatch(/no field reason/);
      await expect(
        buildProbeContext(probeById('trace_tcp_retrans')!, { tracefsCandidates: [old] }),
      ).rejects.toThrow(/no tracepoint tcp:tcp_retransmit_skb/);
      await expect(
        buildProbeContext(probeById('trace_skb_drop')!, { tracefsCandidates: ['/nonexistent'] }),
      ).rejects.toThrow(/tracefs is not mounted/);
    } finally {
      rmSync(root, { recursive: true, force: true });
      rmSync(old, { recursive: true, force: true });
    }
  });
});
