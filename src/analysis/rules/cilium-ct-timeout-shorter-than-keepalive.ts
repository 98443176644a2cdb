// FM-1 on Cilium nodes: the agent's BPF conntrack forgets an idle flow before its keepalive (if
// any) refreshes it. The path race (analysis/path) puts the Cilium layer first; the fix is the
// matching bpf-ct-timeout key or a keepalive below it.
import { ciliumNumbers } from '../path/cilium-context.js';
import type { SuggestNeed } from '../needs.js';
import type { Rule } from '../rule.js';
import { keepaliveSpan } from '../rule.js';
import { layerTimeoutFindings } from './layer-timeout.js';

export const ciliumCtTimeoutShorterThanKeepalive: Rule = {
  code: 'cilium.ct-timeout-shorter-than-keepalive',
  fm: 'FM-1',
  run: (ctx) =>
    layerTimeoutFindings(ctx, {
      rule: 'cilium.ct-timeout-shorter-than-keepalive',
      fm: 'FM-1',
      layers: ['cilium'],
      title: "Cilium's BPF conntrack forgets idle flows before keepalive refreshes them",
      extraNeeds: (paths) => {
        // Raising a timer only helps when a keepalive refreshes it: every flow must have one.
        const spans = paths.map(keepaliveSpan);
        if (spans.length === 0 || spans.some((s) => s === undefined)) return [];
        const above = Math.max(...(spans as number[]));
        const keys = new Set(paths.map((p) => ciliumNumbers(ctx.path, p.flow)?.timeout.key));
        const out: SuggestNeed[] = [];
        for (const key of keys)
          if (key) out.push({ kind: 'cilium-ct-timeout', key, aboveSec: above });
        return out;
      },
    }),
};
