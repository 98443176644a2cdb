// Real kernel: the lab's namespaces, isolation, kube-proxy rules and cleanup (also of leftovers).
import { afterAll, describe, expect, it } from 'vitest';
import { attachLab, labDown, labNamespaces, labUp } from '../../src/lab/lab.js';
import { NS } from '../../src/lab/topology.js';
import { run } from '../../src/host/exec.js';
import { labSkipReason } from '../helpers/lab-guard.js';
import { assertNoLabLeft } from '../helpers/lab-harness.js';

const reason = labSkipReason('root', 'netns', 'iptables', 'conntrack');

describe.skipIf(reason)('lab lifecycle', () => {
  afterAll(async () => {
    expect(await assertNoLabLeft()).toEqual([]);
  });

  it(
    'builds five isolated namespaces with kube-proxy rules and removes them',
    { timeout: 30_000 },
    async () => {
      // Given a leftover from a crashed run
      await run(['ip', 'netns', 'add', 'kdiag-lab-leftover']);
      const steps: string[] = [];
      try {
        // When
        const lab = await labUp({ dropInvalid: true, onStep: (s) => steps.push(s.message) });
        // Then
        expect((await labNamespaces()).sort()).toEqual(Object.values(NS).sort());
        expect(steps.some((s) => s.startsWith('Namespaces removed: kdiag-lab-leftover'))).toBe(
          true,
        );
        expect(steps).toContain(`Namespaces created: ${Object.values(NS).join(', ')}`);
        for (const ns of Object.values(NS)) {
          expect((await run(['ip', '-n', ns, 'route', 'show', 'default'])).stdout.trim()).toBe('');
          // every veth's peer lives in another lab namespace, never in the host's
          const links = (await run(['ip', '-n', ns, '-o', 'link', 'show', 'type', 'veth'])).stdout;
          for (const l of links.split('\n').filter(Boolean))
            expect(l).toMatch(/link-netns kdiag-lab-/);
        }
        const save = await lab.iptablesSave();
        expect(save).toContain(
          `-A KUBE-SERVICES -d 203.0.113.10/32 -p tcp -m comment --comment "default/web:http cluster IP" -m tcp --dport 80 -j ${lab.chains.svc}`,
        );
        expect(save).toMatch(
          /-m statistic --mode random --probability 0\.50000000000 -j KUBE-SEP-/,
        );
        expect(save).toContain('-j DNAT --to-destination 198.51.100.12:8080');
        expect(save).toContain('-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP');
        expect(await lab.readSysctl(NS.node, 'net.ipv4.ip_forward')).toBe('1');
        expect(await attachLab()).toBeDefined();
        await lab.setDropInvalid(false);
        expect(await lab.dropInvalid()).toBe(false);
        await lab.down();
        expect(await labNamespaces()).toEqual([]);
        expect(await attachLab()).toBeUndefined();
      } finally {
        await labDown();
      }
    },
  );
});
