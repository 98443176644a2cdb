// kube-proxy ignores --conntrack-*/--ipvs-* flags given beside --config (options.go Complete()).
import type { Rule } from '../rule.js';
import { evidence, makeDraft } from '../rule.js';

export const kubeProxyFlagsIgnored: Rule = {
  code: 'kube-proxy.flags-ignored',
  fm: 'FM-1',
  run(ctx) {
    const kp = ctx.table.kubeProxy;
    if (!kp || kp.value.ignoredFlags.length === 0) return [];
    const flags = [...kp.value.ignoredFlags].sort();
    const fm =
      flags.some((f) => f.startsWith('--ipvs')) && !flags.some((f) => f.startsWith('--conntrack'))
        ? 'FM-2'
        : 'FM-1';
    const evs = [
      evidence(
        kp.t,
        kp.src,
        kp.raw ?? `kube-proxy --config ${kp.value.configPath ?? '?'} ${flags.join(' ')}`,
      ),
    ];
    return [
      makeDraft({
        rule: 'kube-proxy.flags-ignored',
        fm,
        subject: 'kube-proxy',
        severity: 'warning',
        confidence: 'certain',
        title: 'kube-proxy flags beside --config are ignored',
        cause:
          `kube-proxy runs with --config ${kp.value.configPath ?? ''} and ignores ${flags.join(', ')} beside it (only logging flags and --hostname-override are merged), so those values are not in force.`.replace(
            '--config  and',
            '--config and',
          ),
        flows: [],
        evidence: evs,
        needs: [{ kind: 'kube-proxy-flags-to-config', flags }],
        t: kp.t,
      }),
    ];
  },
};
