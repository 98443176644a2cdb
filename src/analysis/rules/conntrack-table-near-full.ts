// FM-8: conntrack entries near nf_conntrack_max, or the kernel already dropping for a full table.
import type { Evidence } from '../../model/diagnosis.js';
import type { Draft, Rule, RuleContext } from '../rule.js';
import { evidence, latestT, makeDraft, statsDelta } from '../rule.js';

const TABLE_FULL = /nf_conntrack: (?:nf_conntrack: )?table full, dropping packet/;

export const conntrackTableNearFull: Rule = {
  code: 'conntrack.table-near-full',
  fm: 'FM-8',
  run(ctx) {
    // Each netns has its own table count (nf_conntrack_max is global): the host first, then every
    // netns kdiag read sysctls in (a node traced with --netns).
    const scopes = [undefined, ...ctx.table.sysctlScopes().filter((s) => s !== '')];
    return scopes.flatMap((s) => forScope(ctx, s));
  },
};

function forScope(ctx: RuleContext, scope: string | undefined): Draft[] {
  const t = ctx.table;
  const max =
    t.sysctl('net.netfilter.nf_conntrack_max', scope) ??
    (scope !== undefined ? t.sysctl('net.netfilter.nf_conntrack_max') : undefined);
  const maxN = max ? Number(max.value) : NaN;
  const evs: Evidence[] = [];
  let count: number | undefined;
  const hist = t.statsHistory(scope);
  const lastStats = hist[hist.length - 1];
  const cnt = t.sysctl('net.netfilter.nf_conntrack_count', scope);
  if (lastStats?.entries !== undefined) {
    count = lastStats.entries;
    evs.push(evidence(lastStats.t, lastStats.src, lastStats.text, `entries=${count}`));
  } else if (cnt && Number.isFinite(Number(cnt.value))) {
    count = Number(cnt.value);
    evs.push(evidence(cnt.t, cnt.src, `net.netfilter.nf_conntrack_count = ${cnt.value}`));
  } else {
    const snap = t.conntrackCount(scope);
    if (snap) {
      count = snap.value;
      evs.push(evidence(snap.t, snap.src, `conntrack -L: ${snap.value} entries`));
    }
  }
  if (max) evs.push(evidence(max.t, max.src, `net.netfilter.nf_conntrack_max = ${max.value}`));
  const drop = statsDelta(ctx, 'drop', scope);
  const early = statsDelta(ctx, 'early_drop', scope);
  const full =
    scope === undefined
      ? t.kernelLog.filter((l) => typeof l.value === 'string' && TABLE_FULL.test(l.value))
      : [];
  for (const l of full.slice(-2)) evs.push(evidence(l.t, l.src, l.raw ?? l.value));
  if (drop.delta > 0 && drop.last) evs.push({ ...drop.last, note: `drop rose by ${drop.delta}` });
  if (early.delta > 0 && early.last)
    evs.push({ ...early.last, note: `early_drop rose by ${early.delta}` });
  const ratio = count !== undefined && Number.isFinite(maxN) && maxN > 0 ? count / maxN : undefined;
  // Readings of one moment (a bundle): counters run since the netns started, so drops there say the
  // table overflowed before; with the table near full now, that is the same overflow.
  const once =
    lastStats && hist[0]?.t === lastStats.t
      ? { drop: lastStats.counters.drop ?? 0, early: lastStats.counters.early_drop ?? 0 }
      : undefined;
  const droppedBefore = once !== undefined && once.drop + once.early > 0 && (ratio ?? 0) >= 0.9;
  if (droppedBefore && lastStats)
    evs.push(
      evidence(
        lastStats.t,
        lastStats.src,
        lastStats.text,
        `drop=${once.drop} early_drop=${once.early} since the counters started`,
      ),
    );
  const dropping = full.length > 0 || drop.delta > 0 || early.delta > 0 || droppedBefore;
  if (!dropping && (ratio === undefined || ratio < 0.9)) return [];
  const pct = ratio !== undefined ? `${Math.round(ratio * 100)}%` : undefined;
  const cause =
    ratio !== undefined
      ? `The conntrack table holds ${count} entries of nf_conntrack_max ${maxN} (${pct})${droppedBefore && once ? ` and conntrack has already dropped ${once.drop} packets and evicted ${once.early} entries (conntrack -S)` : dropping ? ' and the kernel is already dropping new flows' : ''}; new connections and every reconnect fail once it is full.`
      : `The kernel is dropping new flows because the conntrack table is full; new connections and every reconnect fail.`;
  const cpus = lastStats?.cpus;
  return [
    makeDraft({
      rule: 'conntrack.table-near-full',
      fm: 'FM-8',
      subject: scope ?? 'host',
      severity: dropping || (ratio ?? 0) >= 1 ? 'critical' : 'warning',
      confidence: dropping ? 'certain' : 'likely',
      title: dropping ? 'Conntrack table full: new flows dropped' : 'Conntrack table near full',
      cause,
      flows: [],
      evidence: evs,
      needs: [
        {
          kind: 'conntrack-max',
          atLeast: Math.max(Number.isFinite(maxN) ? maxN * 2 : 0, (count ?? 0) * 2, 262144),
          ...(cpus ? { cpus } : {}),
        },
      ],
      t: latestT(evs, ctx.now),
    }),
  ];
}
