// Facts shared by the INVALID rules (FM-5): be_liberal, the DROP rules, the invalid counter.
import type { Evidence } from '../../model/diagnosis.js';
import type { InvalidDropRule } from '../../model/iptables.js';
import type { RuleContext } from '../rule.js';
import { evidence, statsDelta } from '../rule.js';
import { invalidDropText, noInvalidDropText } from './nft-invalid-text.js';
import { KP_INVALID_DROPPED } from '../../parse/kube-proxy-metrics.js';
import { kubeProxyMetricsReading } from './kube-proxy-metrics-facts.js';

export interface InvalidFacts {
  readonly beLiberal: boolean | undefined;
  readonly beLiberalEvidence?: Evidence;
  /** undefined when iptables-save was not read. */
  readonly dropRules: readonly InvalidDropRule[] | undefined;
  readonly rulesEvidence?: Evidence;
  readonly invalidDelta: number;
  readonly invalidEvidence?: Evidence;
  /** kube-proxy's count of what its INVALID DROP rule dropped, and its rise over the capture (host only). */
  readonly kubeProxyDropped?: { readonly count: number; readonly rise: number };
  readonly kubeProxyEvidence?: Evidence;
}

/** Reads be_liberal, the INVALID DROP rules and the `conntrack -S invalid` delta of a netns (default the host). */
export function invalidFacts(ctx: RuleContext, scope?: string): InvalidFacts {
  const bl = ctx.table.sysctl('net.netfilter.nf_conntrack_tcp_be_liberal', scope);
  const ipt = ctx.table.iptables(scope);
  const inv = statsDelta(ctx, 'invalid', scope);
  const rules = ipt?.value.invalidDropRules;
  // kube-proxy runs in the host netns: its counter speaks for the host's rule only.
  const kp = scope === undefined ? kubeProxyMetricsReading(ctx.table) : undefined;
  const kpCount = kp?.latest.invalidDropped;
  const kpRise =
    kpCount === undefined ? 0 : Math.max(0, kpCount - (kp?.first.invalidDropped ?? kpCount));
  return {
    ...(kp && kpCount !== undefined && kpCount > 0
      ? {
          kubeProxyDropped: { count: kpCount, rise: kpRise },
          kubeProxyEvidence: evidence(
            kp.t,
            kp.src,
            `${KP_INVALID_DROPPED} ${kpCount}`,
            kpRise > 0
              ? `kube-proxy's INVALID DROP rule dropped ${kpRise} more during the capture`
              : "dropped by kube-proxy's INVALID DROP rule since it started",
          ),
        }
      : {}),
    beLiberal: bl ? bl.value !== '0' : undefined,
    ...(bl
      ? {
          beLiberalEvidence: evidence(
            bl.t,
            bl.src,
            `net.netfilter.nf_conntrack_tcp_be_liberal = ${bl.value}`,
          ),
        }
      : {}),
    dropRules: rules,
    ...(ipt
      ? {
          rulesEvidence: evidence(
            ipt.t,
            ipt.src,
            rules && rules.length > 0
              ? rules.map(invalidDropText).join('; ')
              : noInvalidDropText(ipt.value.chains, ipt.src),
          ),
        }
      : {}),
    invalidDelta: inv.delta,
    ...(inv.last && inv.delta > 0
      ? { invalidEvidence: { ...inv.last, note: `conntrack -S invalid rose by ${inv.delta}` } }
      : {}),
  };
}
