// FM-5 in kube-proxy's nftables mode: the nftables proxier installs no `ct state invalid drop`
// (kubernetes PR #122663; pkg/proxy/nftables/proxier.go has no such rule, the Kubernetes docs
// "Virtual IPs and Service Proxies" point at --conntrack-tcp-be-liberal instead). An INVALID packet
// (out of window, or the next packet of a flow whose entry expired with nf_conntrack_tcp_loose=0)
// is therefore forwarded without its NAT and the peer, with no socket for those addresses, answers
// with a reset, where iptables mode drops it silently. No rule counts these packets, so the count
// comes from `conntrack -S invalid` and the probes' socket-less resets.
import type { Evidence } from '../../model/diagnosis.js';
import type { Flow } from '../../model/flow.js';
import type { TimelineItem } from '../../model/timeline.js';
import type { SuggestNeed } from '../needs.js';
import type { Draft, Rule, RuleContext } from '../rule.js';
import { evidence, isNoSocket, itemEvidence, latestT, makeDraft } from '../rule.js';
import { invalidFacts } from './invalid-helpers.js';

const LOOSE = 'net.netfilter.nf_conntrack_tcp_loose';
const MAX_FLOWS = 20;

export const kubeProxyNftInvalidPasses: Rule = {
  code: 'kube-proxy.nft-invalid-passes',
  fm: 'FM-5',
  run(ctx) {
    const out: Draft[] = [];
    for (const scope of ruleScopes(ctx)) {
      const d = runScope(ctx, scope);
      if (d) out.push(d);
    }
    return out;
  },
};

/**
 * The netns whose rules are kube-proxy's: the host's in nftables mode, and a named netns (the lab's
 * node, `--netns`) whose own nft ruleset holds the kube-proxy table while no other mode is known.
 */
function ruleScopes(ctx: RuleContext): (string | undefined)[] {
  const out: (string | undefined)[] = [];
  if (ctx.path.mode === 'nftables') out.push(undefined);
  if (ctx.path.mode !== undefined && ctx.path.mode !== 'nftables') return out;
  for (const s of ctx.table.sysctlScopes()) {
    if (s === '') continue;
    if (ctx.table.iptables(s)?.value.kubeProxyNftables === true) out.push(s);
  }
  return out;
}

function runScope(ctx: RuleContext, scope: string | undefined): Draft | undefined {
  const facts = invalidFacts(ctx, scope);
  // No ruleset read: kdiag cannot say whether some other rule drops them (silence is not health).
  if (facts.dropRules === undefined) return undefined;
  const forwardDrop = facts.dropRules.some((r) => (r.hook ?? r.chain).toUpperCase() === 'FORWARD');
  if (forwardDrop) return undefined;
  const loose = ctx.table.sysctl(LOOSE, scope);
  const loose0 = loose?.value === '0';
  // be_liberal makes out-of-window segments valid; only the loose=0 expiry path is left then.
  if (facts.beLiberal === true && !loose0) return undefined;
  const resets = unNatedResets(ctx);
  const evs: Evidence[] = [];
  if (facts.rulesEvidence) evs.push(facts.rulesEvidence);
  if (facts.beLiberalEvidence) evs.push(facts.beLiberalEvidence);
  if (loose) evs.push(evidence(loose.t, loose.src, `${LOOSE} = ${loose.value}`));
  if (facts.invalidEvidence) evs.push(facts.invalidEvidence);
  for (const r of resets.slice(0, 3))
    evs.push(itemEvidence(r.item, 'socket-less reset to a packet that arrived without its NAT'));
  const seen = facts.invalidDelta > 0 || resets.length > 0;
  const needs: SuggestNeed[] = facts.beLiberal === true ? [] : [{ kind: 'be-liberal' }];
  const flows = [...new Set(resets.map((r) => ctx.pathOf(r.flow).id))].slice(0, MAX_FLOWS);
  const modeSource =
    scope === undefined
      ? ctx.path.modeSource
      : `nft list ruleset in netns ${scope} shows table kube-proxy`;
  return makeDraft({
    rule: 'kube-proxy.nft-invalid-passes',
    fm: 'FM-5',
    subject: scope === undefined ? 'host' : `netns ${scope}`,
    severity: seen ? 'critical' : 'warning',
    confidence: facts.beLiberal === false || loose0 ? 'certain' : 'likely',
    title: 'nftables mode: INVALID packets are reset by the peer, not dropped',
    cause: cause(
      modeSource,
      facts.beLiberal,
      loose0,
      facts.invalidDelta,
      resets.length,
      invalidNow(ctx, scope),
    ),
    flows,
    evidence: evs,
    needs,
    t: latestT(evs, ctx.now),
  });
}

function cause(
  modeSource: string,
  beLiberal: boolean | undefined,
  loose0: boolean,
  invalid: number,
  resets: number,
  now: number | undefined,
): string {
  const which = [
    ...(beLiberal === true ? [] : ['an out-of-window segment']),
    ...(loose0
      ? ['the next packet of a flow whose entry expired (nf_conntrack_tcp_loose = 0)']
      : []),
  ].join(', or ');
  const liberal =
    beLiberal === true
      ? 'nf_conntrack_tcp_be_liberal is 1, which does not cover an expired entry'
      : `nf_conntrack_tcp_be_liberal is ${beLiberal === false ? '0' : 'not read (kernel default 0)'}`;
  const counted: string[] = [];
  if (invalid > 0) counted.push(`conntrack -S invalid rose by ${invalid}`);
  if (resets > 0)
    counted.push(
      `${resets} socket-less reset${resets === 1 ? '' : 's'} to un-NAT'ed packets seen by the probes`,
    );
  const count =
    counted.length > 0
      ? counted.join('; ')
      : now !== undefined
        ? `conntrack -S invalid is ${now} since the counters started, with no rise seen (it takes two readings)`
        : 'conntrack -S was not read, so how many there were is unknown';
  return `kube-proxy runs in nftables mode (${modeSource}), which installs no "ct state invalid drop" rule (kubernetes #122663), and no other rule drops INVALID packets in FORWARD; ${liberal}. So ${which}${which.includes(', or ') ? ',' : ''} is not dropped on this node: it leaves without its NAT and the peer, which has no socket for those addresses, answers with a reset (ECONNRESET), where iptables mode drops it and the sender retransmits. No rule counter counts them: ${count}.`;
}

/** The last `conntrack -S invalid` of the host, summed over CPUs. */
function invalidNow(ctx: RuleContext, scope: string | undefined): number | undefined {
  const h = ctx.table.statsHistory(scope);
  return h[h.length - 1]?.counters['invalid'];
}

/** Socket-less resets (or NO_SOCKET drops) in reply direction on NAT'ed flows: the un-NAT'ed packet's answer. */
function unNatedResets(ctx: RuleContext): { flow: Flow; item: TimelineItem }[] {
  const out: { flow: Flow; item: TimelineItem }[] = [];
  for (const f of ctx.resetOrDropFlows()) {
    if (!f.natted) continue;
    for (const i of f.timeline ?? [])
      if (isNoSocket(i) && i.dir === 'reply') out.push({ flow: f, item: i });
  }
  return out;
}
