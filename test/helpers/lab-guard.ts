// Decides whether real-kernel tests (root, netns, iptables, conntrack, bpftrace) can run here.
// Elsewhere they skip with a printed reason; with KDIAG_REQUIRE_LAB=1 (CI) a skip is a failure.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export type LabNeed =
  'root' | 'netns' | 'iptables' | 'conntrack' | 'bpftrace' | 'tracefs' | 'tmux' | 'nft';

function hasTool(tool: string): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v "$1" >/dev/null', 'sh', tool]);
    return true;
  } catch {
    return false;
  }
}

const CHECKS: Record<LabNeed, () => string | undefined> = {
  root: () => (process.getuid?.() === 0 ? undefined : 'not root'),
  netns: () => (hasTool('ip') ? undefined : 'iproute2 (ip) not installed'),
  iptables: () => (hasTool('iptables') ? undefined : 'iptables not installed'),
  conntrack: () => (hasTool('conntrack') ? undefined : 'conntrack-tools not installed'),
  bpftrace: () => (hasTool('bpftrace') ? undefined : 'bpftrace not installed'),
  tmux: () => (hasTool('tmux') ? undefined : 'tmux not installed'),
  tracefs: () =>
    existsSync('/sys/kernel/tracing/events/skb')
      ? undefined
      : 'tracefs not mounted at /sys/kernel/tracing (mount -t tracefs tracefs /sys/kernel/tracing)',
  nft: () => (hasTool('nft') ? undefined : 'nftables (nft) not installed'),
};

/**
 * Returns why the lab cannot run here, or undefined when it can. Throws under KDIAG_REQUIRE_LAB=1.
 * KDIAG_SKIP_LAB=1 (`npm run test:unit`) skips the lab on a machine that could run it: a quick run.
 */
export function labSkipReason(...needs: LabNeed[]): string | undefined {
  if (process.env.KDIAG_SKIP_LAB === '1' && process.env.KDIAG_REQUIRE_LAB !== '1') {
    const why = 'KDIAG_SKIP_LAB=1 (npm run test:unit)';
    process.stderr.write(`[lab tests skipped: ${why}]\n`);
    return why;
  }
  for (const need of needs) {
    const why = CHECKS[need]();
    if (why !== undefined) {
      if (process.env.KDIAG_REQUIRE_LAB === '1')
        throw new Error(`KDIAG_REQUIRE_LAB=1 but the lab cannot run: ${why}`);
      process.stderr.write(`[lab tests skipped: ${why}]\n`);
      return why;
    }
  }
  return undefined;
}
