// Pure selectors from a SessionSnapshot to what the panes list: normalised input, sorted and filtered indices.
import type {
  Diagnosis,
  Finding,
  FlowView,
  Layer,
  LayerTimeout,
  Prediction,
  Severity,
  Suggestion,
} from '../../model/diagnosis.js';
import type { FeedItem, SessionSnapshot } from '../../model/session.js';
import type { SortKey } from './ui-state.js';

const EMPTY: readonly never[] = Object.freeze([]);

function arr<T>(v: unknown): readonly T[] {
  return Array.isArray(v) ? (v as T[]) : (EMPTY as readonly T[]);
}

/** An empty diagnosis, for a session that has produced none yet. */
export const EMPTY_DIAGNOSIS: Diagnosis = Object.freeze({
  at: Number.NaN,
  findings: EMPTY,
  predictions: EMPTY,
  suggestions: EMPTY,
  flows: EMPTY,
});

/** Fills every missing top-level field of a snapshot so that views never see undefined arrays. */
export function normaliseSnapshot(raw: unknown): SessionSnapshot {
  const s = (raw && typeof raw === 'object' ? raw : {}) as Partial<SessionSnapshot>;
  const d = (
    s.diagnosis && typeof s.diagnosis === 'object' ? s.diagnosis : EMPTY_DIAGNOSIS
  ) as Partial<Diagnosis>;
  const diagnosis: Diagnosis =
    Array.isArray(d.flows) &&
    Array.isArray(d.findings) &&
    Array.isArray(d.predictions) &&
    Array.isArray(d.suggestions)
      ? (d as Diagnosis)
      : {
          at: typeof d.at === 'number' ? d.at : Number.NaN,
          findings: arr(d.findings),
          predictions: arr(d.predictions),
          suggestions: arr(d.suggestions),
          flows: arr(d.flows),
        };
  return {
    mode: s.mode === 'replay' ? 'replay' : 'live',
    diagnosis,
    feed: arr<FeedItem>(s.feed),
    sources: arr(s.sources),
    ...(s.recording && typeof s.recording === 'object' ? { recording: s.recording } : {}),
    ...(s.replay && typeof s.replay === 'object' ? { replay: s.replay } : {}),
    missing: arr<string>(s.missing),
    paused: s.paused === true,
    applied: arr(s.applied),
    issues: typeof s.issues === 'number' ? s.issues : Number.NaN,
  };
}

/** The per-flow numbers the flows pane sorts and shows, computed once per diagnosis. */
export interface FlowIndex {
  readonly flows: readonly FlowView[];
  /** Seconds until the first layer forgets flow i; Infinity when nothing will (or unknown). */
  readonly ttb: Float64Array;
  /** Rule codes of the findings that name each flow id. */
  readonly rulesByFlow: ReadonlyMap<string, string>;
  /** Count of flows with a finite time to break. */
  readonly atRisk: number;
}

function finiteOr(n: unknown, dflt: number): number {
  return typeof n === 'number' && Number.isFinite(n) ? n : dflt;
}

/** The layer timeout entry of `flow` for `layer`, if any. */
export function layerOf(flow: FlowView | undefined, layer: Layer): LayerTimeout | undefined {
  const layers = flow && Array.isArray(flow.layers) ? flow.layers : EMPTY;
  for (const l of layers) if (l && l.layer === layer) return l;
  return undefined;
}

/** Seconds until the flow breaks: the first-to-forget layer's time left, else its earliest prediction; Infinity when safe. */
export function timeToBreak(flow: FlowView | undefined, predicted?: number): number {
  if (!flow || !flow.firstToForget) return predicted ?? Number.POSITIVE_INFINITY;
  const left = layerOf(flow, flow.firstToForget)?.leftSec;
  if (typeof left === 'number' && Number.isFinite(left)) return Math.max(0, left);
  return predicted ?? Number.POSITIVE_INFINITY;
}

/** Builds the FlowIndex of a diagnosis at once (small diagnoses; large ones go through flowIndexJob). */
export function indexFlows(diagnosis: Diagnosis): FlowIndex {
  const job = indexFlowsJob(diagnosis, Number.POSITIVE_INFINITY);
  for (;;) {
    const r = job.next();
    if (r.done) return r.value;
  }
}

/** Builds a FlowIndex in steps of `chunk` flows, yielding between steps so a large diagnosis never blocks a frame. */
export function* indexFlowsJob(diagnosis: Diagnosis, chunk: number): Generator<void, FlowIndex> {
  const flows = arr<FlowView>(diagnosis.flows);
  const predicted = new Map<string, number>();
  for (const p of arr<Prediction>(diagnosis.predictions)) {
    if (!p || typeof p.flow !== 'string') continue;
    const b = finiteOr(p.breaksInSec, Number.POSITIVE_INFINITY);
    const cur = predicted.get(p.flow);
    if (cur === undefined || b < cur) predicted.set(p.flow, Math.max(0, b));
  }
  const rules = new Map<string, string>();
  for (const f of arr<Finding>(diagnosis.findings)) {
    if (!f) continue;
    for (const id of arr<string>(f.flows))
      rules.set(
        id,
        `${rules.get(id) ?? ''} ${String(f.rule ?? '')} ${String(f.fm ?? '')}`.toLowerCase(),
      );
  }
  const n = flows.length;
  const ttb = new Float64Array(n);
  const hasPredictions = predicted.size > 0;
  let atRisk = 0;
  for (let start = 0; start < n; start += chunk) {
    if (start > 0) yield;
    const end = Math.min(n, start + chunk);
    for (let i = start; i < end; i++) {
      const f = flows[i];
      let t = Number.POSITIVE_INFINITY;
      if (f) {
        const first = f.firstToForget;
        const layers = f.layers;
        if (first && Array.isArray(layers)) {
          for (let j = 0; j < layers.length; j++) {
            const l = layers[j];
            if (l && l.layer === first) {
              const v = l.leftSec;
              if (typeof v === 'number' && Number.isFinite(v)) t = v < 0 ? 0 : v;
              break;
            }
          }
        }
        if (t === Number.POSITIVE_INFINITY && hasPredictions) t = predicted.get(f.id) ?? t;
      }
      ttb[i] = t;
      if (t !== Number.POSITIVE_INFINITY) atRisk++;
    }
  }
  return { flows, ttb, rulesByFlow: rules, atRisk };
}

/** Lower-case text a filter is matched against: addresses, ports, pod, process, service, state. */
export function flowHaystack(f: FlowView): string {
  if (!f) return '';
  const ep = (e: { addr?: string; port?: number } | undefined) =>
    e ? `${e.addr ?? ''}:${e.port ?? ''}` : '';
  const o = f.owner;
  return [
    f.id,
    ep(f.client),
    ep(f.target),
    ep(f.backend),
    f.service ?? '',
    o?.pod ? `${o.pod.namespace}/${o.pod.name}` : '',
    o?.process ? `${o.process.comm} ${o.process.pid}` : '',
    o?.netns ?? '',
    f.state ?? '',
    f.firstToForget ?? '',
  ]
    .join(' ')
    .toLowerCase();
}

const UNKNOWN_KEY = 0xffff_ffff;

/** Stable LSD radix sort of `idx` by `keys[idx[j]]` (uint32), two 16-bit passes, one when all keys are < 65536. */
export function radixOrder(keys: Uint32Array, idx: Uint32Array): Uint32Array {
  const n = idx.length;
  if (n <= 1) return idx;
  let hi = 0;
  for (let j = 0; j < n; j++) hi |= keys[idx[j]!]! >>> 16;
  const count = new Uint32Array(65_537);
  let src: Uint32Array = idx;
  let dst: Uint32Array = new Uint32Array(n);
  for (let shift = 0; shift <= (hi === 0 ? 0 : 16); shift += 16) {
    count.fill(0);
    for (let j = 0; j < n; j++) count[((keys[src[j]!]! >>> shift) & 0xffff) + 1]!++;
    for (let b = 1; b < 65_537; b++) count[b]! += count[b - 1]!;
    for (let j = 0; j < n; j++) {
      const v = src[j]!;
      dst[count[(keys[v]! >>> shift) & 0xffff]!++] = v;
    }
    const t: Uint32Array = src === idx ? new Uint32Array(n) : src;
    src = dst;
    dst = t;
  }
  return src;
}

/** Flow indices after filter and sort; `haystack` lets the caller cache the per-flow filter text. */
export function selectFlowOrder(
  index: FlowIndex,
  sort: SortKey,
  filter: string,
  haystack: (f: FlowView) => string = flowHaystack,
): Uint32Array {
  const job = flowOrderJob(index, sort, filter, haystack, Number.POSITIVE_INFINITY);
  for (;;) {
    const r = job.next();
    if (r.done) return r.value;
  }
}

/** selectFlowOrder in steps of `chunk` flows (the filter and the sort keys); the radix sort itself runs in one step. */
export function* flowOrderJob(
  index: FlowIndex,
  sort: SortKey,
  filter: string,
  haystack: (f: FlowView) => string,
  chunk: number,
): Generator<void, Uint32Array> {
  const { flows, ttb, rulesByFlow } = index;
  const n = flows.length;
  const q = filter.trim().toLowerCase();
  let idx: Uint32Array;
  if (q === '') {
    idx = new Uint32Array(n);
    for (let i = 0; i < n; i++) idx[i] = i;
  } else {
    const hits: number[] = [];
    for (let start = 0; start < n; start += chunk) {
      if (start > 0) yield;
      const end = Math.min(n, start + chunk);
      for (let i = start; i < end; i++) {
        const f = flows[i];
        if (!f) continue;
        if (haystack(f).includes(q) || (rulesByFlow.get(f.id)?.includes(q) ?? false)) hits.push(i);
      }
    }
    idx = Uint32Array.from(hits);
  }
  if (sort === 'flow') {
    yield;
    const ids = flows.map((f) => String(f?.id ?? ''));
    return idx.sort((a, b) => (ids[a]! < ids[b]! ? -1 : ids[a]! > ids[b]! ? 1 : a - b));
  }
  const keys = new Uint32Array(n);
  for (let start = 0; start < n; start += chunk) {
    if (start > 0) yield;
    const end = Math.min(n, start + chunk);
    if (sort === 'idle') {
      // Most idle first; unknown idle last.
      for (let i = start; i < end; i++) {
        const v = flows[i]?.idleSec;
        keys[i] =
          typeof v === 'number' && Number.isFinite(v)
            ? UNKNOWN_KEY - 1 - Math.min(UNKNOWN_KEY - 1, Math.max(0, Math.floor(v)))
            : UNKNOWN_KEY;
      }
    } else {
      for (let i = start; i < end; i++) {
        const v = ttb[i]!;
        keys[i] = Number.isFinite(v) ? Math.min(UNKNOWN_KEY - 1, Math.floor(v)) : UNKNOWN_KEY;
      }
    }
  }
  yield;
  return radixOrder(keys, idx);
}

/** Indices into `feed`, newest first, that match the filter (all of them when it is empty). */
export function selectFeedOrder(feed: readonly FeedItem[], filter: string): Uint32Array {
  const q = filter.trim().toLowerCase();
  const out: number[] = [];
  for (let i = feed.length - 1; i >= 0; i--) {
    const e = feed[i];
    if (!e) continue;
    if (
      q === '' ||
      `${e.text ?? ''} ${e.flow ?? ''} ${e.finding ?? ''} ${e.src ?? ''} ${e.kind ?? ''}`
        .toLowerCase()
        .includes(q)
    )
      out.push(i);
  }
  return Uint32Array.from(out);
}

const SEVERITY_RANK: Record<Severity, number> = { critical: 0, warning: 1, info: 2 };

/** Findings, most severe first, then latest first, narrowed by the filter (rule, fm, title, flows). */
export function selectFindings(findings: readonly Finding[], filter: string): readonly Finding[] {
  const q = filter.trim().toLowerCase();
  const list = arr<Finding>(findings).filter(
    (f) =>
      f &&
      (q === '' ||
        `${f.rule ?? ''} ${f.fm ?? ''} ${f.title ?? ''} ${arr<string>(f.flows).join(' ')}`
          .toLowerCase()
          .includes(q)),
  );
  return list.sort(
    (a, b) =>
      (SEVERITY_RANK[a.severity] ?? 3) - (SEVERITY_RANK[b.severity] ?? 3) ||
      finiteOr(b.t, 0) - finiteOr(a.t, 0),
  );
}

/** Looks up suggestions by id, keeping order and skipping unknown ids. */
export function suggestionsFor(
  ids: readonly string[] | undefined,
  all: readonly Suggestion[],
): Suggestion[] {
  const byId = new Map(
    arr<Suggestion>(all)
      .filter(Boolean)
      .map((s) => [s.id, s] as const),
  );
  return arr<string>(ids)
    .map((id) => byId.get(id))
    .filter((s): s is Suggestion => s !== undefined)
    .sort((a, b) => finiteOr(a.rank, 99) - finiteOr(b.rank, 99));
}

/** The exact shell text of an ApplyChange, as the confirmation dialog shows it. */
export function describeChange(s: Suggestion | undefined): string[] {
  const c = s?.change;
  if (!c) return [];
  if (c.kind === 'sysctl') {
    const cmd = `sysctl -w ${c.key}=${c.value}`;
    return [c.netns ? `ip netns exec ${c.netns} ${cmd}` : cmd];
  }
  if (c.kind === 'ipvs-timeout') return [`ipvsadm --set ${c.tcp} ${c.tcpfin} ${c.udp}`];
  return [];
}

/** Sum of all sources' record rates. */
export function eventRate(s: SessionSnapshot): number {
  let r = 0;
  for (const src of s.sources) r += finiteOr(src?.rate, 0);
  return r;
}
