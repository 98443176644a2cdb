// Analysis: FlowTable → findings (with what each needs fixed), predictions and flows. Pure: `now`
// defaults to the latest observation, so the same observations give the same Analysis. Suggestions
// are not made here: the engine hands the findings' needs to suggest/.
import type { Finding, FlowView, Prediction, Severity } from '../model/diagnosis.js';
import type { FlowTable } from '../model/flow-table.js';
import { isProbeItem } from '../model/timeline.js';
import { CLOUD_PRESETS } from '../model/cloud-presets.js';
import type { CloudPreset } from '../model/cloud-presets.js';
import { buildPathContext } from './path/context.js';
import type { PathContext } from './path/context.js';
import type { PathTimeouts } from './path/path-timeouts.js';
import { predict } from './predict.js';
import type { Draft, RuleContext } from './rule.js';
import { makeRuleContext } from './rule.js';
import { RULES } from './rules/index.js';

export { CLOUD_PRESETS };
export type { CloudPreset };

export interface AnalyzeOptions {
  /** External idle timeout on the path (cloud NAT/LB), seconds. */
  readonly pathIdleTimeoutSec?: number;
  /** `--cloud` values: `aws-nat`, `aws-nlb:500s@svc=ns/web` (model/cloud-scope.ts). */
  readonly cloud?: string | readonly string[];
  /** ms; defaults to the latest observation time. */
  readonly now?: number;
  /** Flows listed in the Diagnosis (at-risk first); default 500. */
  readonly maxFlows?: number;
  /** Predictions listed; default all the at-risk flows the rules materialise (the 10 000 most urgent). */
  readonly maxPredictions?: number;
  /** At-risk flows materialised for rules and predictions, the most urgent first; default 10 000. */
  readonly maxAtRisk?: number;
}

/** What the rules and predictions made of the table, before suggestions. */
export interface Analysis {
  readonly at: number;
  /** Findings in the order the rules made them (suggestions are built in this order), each with its needs. */
  readonly drafts: readonly Draft[];
  readonly predictions: readonly Prediction[];
  /** Every live flow at risk, listed in predictions or not. */
  readonly atRiskTotal: number;
  readonly flows: readonly FlowView[];
  /** The path the rules read: suggestions take their values from it. */
  readonly path: PathContext;
}

const SEVERITY_ORDER: Record<Severity, number> = { critical: 0, warning: 1, info: 2 };

/** The order findings are listed in: most severe first, then by id. */
export function compareFindings(
  a: Pick<Finding, 'severity' | 'id'>,
  b: Pick<Finding, 'severity' | 'id'>,
): number {
  return (
    SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}

/** Runs every rule and the predictions over the table. */
export function analyze(table: FlowTable, opts: AnalyzeOptions = {}): Analysis {
  const path = buildPathContext(table, opts);
  const ctx = makeRuleContext(table, path, opts.maxAtRisk);
  const drafts = new Map<string, Draft>();
  for (const rule of RULES) {
    for (const d of rule.run(ctx)) if (!drafts.has(d.finding.id)) drafts.set(d.finding.id, d);
  }
  const list = [...drafts.values()];
  const predictions = predict(ctx, opts.maxPredictions ?? Infinity);
  const flows = flowViews(
    ctx,
    predictions,
    list.map((d) => d.finding),
    opts.maxFlows ?? 500,
  );
  const atRiskTotal = Math.max(ctx.atRiskCount(), predictions.length);
  return { at: path.now, drafts: list, predictions, atRiskTotal, flows, path };
}

function flowViews(
  ctx: RuleContext,
  predictions: readonly Prediction[],
  findings: readonly Pick<Finding, 'flows'>[],
  max: number,
): FlowView[] {
  const rank = new Map<string, number>();
  predictions.forEach((p, i) => rank.set(p.flow, i));
  const named = new Set(findings.flatMap((f) => f.flows));
  const paths = [...ctx.livePaths(), ...ctx.somePaths(max)];
  const byId = new Map<string, PathTimeouts>();
  for (const p of paths) if (!byId.has(p.id)) byId.set(p.id, p);
  // Event flows a finding names: the client port in each named id screens out the others before
  // their id (or path) is built.
  const ports = clientPorts(named);
  for (const f of ctx.eventFlows()) {
    if (ports !== undefined && !ports.has(f.clientPort)) continue;
    const id = ctx.table.flowId(f);
    if (named.has(id) && !byId.has(id)) byId.set(id, ctx.pathOf(f));
  }
  const ordered = [...byId.values()].sort((a, b) => {
    const ra = rank.get(a.id) ?? Infinity;
    const rb = rank.get(b.id) ?? Infinity;
    if (ra !== rb) return ra - rb;
    const na = named.has(a.id) ? 0 : 1;
    const nb = named.has(b.id) ? 0 : 1;
    return na - nb || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  });
  return ordered.slice(0, max).map((p) => flowView(ctx, p));
}

/**
 * Client ports of flow ids (`tcp 10.0.0.1:42766>10.96.0.10:80`), or undefined when an id does not
 * parse as one (then nothing is screened out).
 */
function clientPorts(ids: ReadonlySet<string>): Set<number> | undefined {
  const out = new Set<number>();
  for (const id of ids) {
    const gt = id.indexOf('>');
    const colon = gt < 0 ? -1 : id.lastIndexOf(':', gt);
    const port = colon < 0 ? NaN : Number(id.slice(colon + 1, gt));
    if (!Number.isInteger(port) || colon + 1 === gt) return undefined;
    out.add(port);
  }
  return out;
}

/** The report's view of one flow. */
export function flowView(ctx: RuleContext, p: PathTimeouts): FlowView {
  const t = ctx.table;
  const f = p.flow;
  const seenBy: string[] = [];
  if (f.ctPresent || f.ctT >= 0) seenBy.push('conntrack');
  if (f.ipvs) seenBy.push('ipvs');
  if ((f.client?.fromSs ?? false) || (f.server?.fromSs ?? false)) seenBy.push('ss');
  if (f.timeline?.some(isProbeItem) || f.client?.probeKa || f.server?.probeKa) seenBy.push('probe');
  const backend = t.backend(f);
  const k = p.keepalive;
  const owner = f.client?.scope ?? f.server?.scope;
  return {
    id: p.id,
    proto: f.proto,
    client: t.client(f),
    target: t.target(f),
    ...(backend ? { backend } : {}),
    ...(owner ? { owner: { netns: owner } } : {}),
    state: p.state,
    idleSec: p.idleSec,
    ...(k.state !== 'unknown'
      ? {
          keepalive: {
            enabled: k.state === 'on',
            idleSec: k.idleSec ?? 0,
            intervalSec: k.intervalSec,
            probes: k.probes,
            source: k.source,
          },
        }
      : {}),
    layers: p.layers.map((l) => ({
      layer: l.layer,
      timeoutSec: l.timeoutSec,
      source: l.source,
      leftSec: l.leftSec === null ? null : Math.round(l.leftSec),
    })),
    ...(!p.safe && p.first ? { firstToForget: p.first.layer } : {}),
    seenBy,
  };
}
