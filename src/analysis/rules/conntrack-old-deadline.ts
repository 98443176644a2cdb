// Issue 19 item 4: a conntrack timeout sysctl changed after entries were last refreshed. The kernel
// re-arms an entry only on its next packet (nf_ct_refresh_acct with the netns's timeouts[state]);
// until then it keeps the deadline it was given (docs/kernel-timers.md b). An entry whose remaining
// seconds exceed the timeout of its state, or that was last refreshed before a change kdiag saw,
// still counts down from the old value.
import type { Evidence } from '../../model/diagnosis.js';
import { familyOf } from '../../model/endpoint.js';
import type { Flow } from '../../model/flow.js';
import { CT_TCP_TIMEOUTS } from '../../model/kernel-defaults.js';
import type { ConntrackTuple } from '../needs.js';
import type { Draft, Rule } from '../rule.js';
import { MAX_FLOWS_PER_FINDING, evidence, fmtSec, makeDraft } from '../rule.js';

/** Seconds of slack: `conntrack -L` rounds the remaining time, and a snapshot takes a moment. */
const SLACK = 2;

interface Hit {
  readonly f: Flow;
  /** When the entry's current deadline falls (ms). */
  readonly expiresT: number;
}

interface Group {
  readonly scope: string | undefined;
  readonly state: string;
  readonly family: 'ipv4' | 'ipv6';
  readonly key: string;
  readonly now: number;
  readonly nowEv: Evidence;
  /** The value before the change, when kdiag saw the change. */
  readonly before?: { value: number; ev: Evidence };
  readonly hits: Hit[];
}

export const conntrackOldDeadline: Rule = {
  code: 'conntrack.old-deadline',
  fm: 'FM-1',
  run(ctx) {
    const t = ctx.table;
    const groups = new Map<string, Group>();
    for (const f of t.flows()) {
      if (!f.ctPresent || f.proto !== 'tcp' || f.ctTimeout < 0 || f.ctT < 0) continue;
      const state = f.ctState;
      const spec = state ? CT_TCP_TIMEOUTS[state] : undefined;
      if (!state || !spec) continue;
      const scope = f.ctScope;
      const cur = t.sysctl(spec.sysctl, scope);
      const now = cur ? Number(cur.value) : NaN;
      if (!cur || !Number.isFinite(now)) continue;
      const hist = t.sysctlHistory(spec.sysctl, scope);
      const r = f.ctTimeout;
      let old = false;
      let before: Group['before'];
      // Above the timeout in force: the deadline was set under a larger value.
      if (r > now + SLACK) old = true;
      // A change seen in the recording: the entry was last refreshed before it when its timer is
      // lower than a refresh after the change would have left, or nothing touched it since.
      const last = hist.length > 1 ? hist[hist.length - 1] : undefined;
      const prev = hist.length > 1 ? hist[hist.length - 2] : undefined;
      if (last && prev && Number(last.value) === now) {
        const sinceChange = (f.ctT - last.t) / 1000;
        if (sinceChange >= 0 && r < now - sinceChange - SLACK && Number(prev.value) < now)
          old = true;
        if (sinceChange < 0 && (f.lastAct < 0 || f.lastAct < last.t) && r < now - SLACK) old = true;
        if (old)
          before = {
            value: Number(prev.value),
            ev: evidence(prev.t, prev.src, `${spec.sysctl} = ${prev.value}`),
          };
      }
      if (!old) continue;
      const family = familyOf(t.client(f).addr);
      const key = `${scope ?? ''}|${state}|${family}`;
      let g = groups.get(key);
      if (!g) {
        g = {
          scope,
          state,
          family,
          key: spec.sysctl,
          now,
          nowEv: evidence(cur.t, cur.src, `${spec.sysctl} = ${cur.value}`),
          ...(before ? { before } : {}),
          hits: [],
        };
        groups.set(key, g);
      }
      g.hits.push({ f, expiresT: f.ctT + r * 1000 });
    }
    const out: Draft[] = [];
    for (const g of groups.values()) {
      g.hits.sort((a, b) => a.expiresT - b.expiresT);
      const first = g.hits[0]!;
      const lastHit = g.hits[g.hits.length - 1]!;
      const inSec = (h: Hit) => Math.max(0, Math.round((h.expiresT - ctx.now) / 1000));
      const n = g.hits.length;
      // Below the value in force: a timeout was raised and these entries die before it promises.
      const sooner = g.hits.filter((h) => h.f.ctTimeout <= g.now).length;
      const where = g.scope ? `netns ${g.scope}` : 'the host';
      const when =
        inSec(first) === inSec(lastHit)
          ? `in ${fmtSec(inSec(first))}`
          : `between ${fmtSec(inSec(first))} and ${fmtSec(inSec(lastHit))} from now`;
      const was = g.before ? ` (it was ${fmtSec(g.before.value)} before the change kdiag saw)` : '';
      const cause =
        `${n} ${g.state} conntrack entr${n === 1 ? 'y' : 'ies'} in ${where} still count${n === 1 ? 's' : ''} down from a timeout other than the ${fmtSec(g.now)} of ${g.key} now${was}: ` +
        `a sysctl change reaches an entry only at its next packet. They expire ${when} if idle` +
        (sooner > 0 ? `; ${sooner} of them sooner than the new timeout promises` : '') +
        `. conntrack -U moves their deadline at once.`;
      const tuples: ConntrackTuple[] = g.hits.slice(0, 5).map((h) => {
        const c = t.client(h.f);
        const tg = t.target(h.f);
        return { proto: 'tcp', src: c.addr, dst: tg.addr, sport: c.port, dport: tg.port };
      });
      const ev: Evidence[] = [g.nowEv, ...(g.before ? [g.before.ev] : [])];
      for (const h of g.hits.slice(0, 3))
        ev.push(
          evidence(
            h.f.ctT,
            h.f.ctSrc,
            t.conntrackSummary(h.f),
            `deadline ${fmtSec(Math.round((h.expiresT - h.f.ctT) / 1000))} after this reading`,
          ),
        );
      out.push(
        makeDraft({
          rule: 'conntrack.old-deadline',
          fm: 'FM-1',
          subject: `${g.scope ?? 'host'} ${g.state} ${g.family}`,
          severity: sooner > 0 ? 'warning' : 'info',
          confidence: 'certain',
          title: 'Conntrack entries still hold the deadline of an older timeout',
          cause,
          flows: g.hits.slice(0, MAX_FLOWS_PER_FINDING).map((h) => t.flowId(h.f)),
          evidence: ev,
          needs: [
            {
              kind: 'conntrack-update',
              netns: g.scope,
              state: g.state,
              timeoutSec: g.now,
              family: g.family,
              tuples,
            },
          ],
          t: ev.reduce((a, e) => Math.max(a, e.t), 0),
        }),
      );
    }
    return out;
  },
};
