// Pure builders of the detail views' lines (flow, finding with its evidence chain, suggestion with its commands).
import type { Finding, FlowView, Layer, Suggestion } from '../../model/diagnosis.js';
import type { AppliedChange } from '../../model/session.js';
import { DASH, fmtClock, fmtDuration, fmtOwner, wrapLines } from '../format.js';
import { printableFlow } from '../state/printable-snapshot.js';
import { describeChange, layerOf } from '../state/selectors.js';
import type { Detail } from '../state/ui-state.js';
import { SEVERITY_COLOR } from '../theme.js';
import { flowLabel } from './flows-view.js';

/** One rendered line; `item` marks the selectable entry it belongs to. */
export interface DetailLine {
  readonly text: string;
  readonly color?: string;
  readonly bold?: boolean;
  readonly dim?: boolean;
  readonly item?: number;
}

/** What a selectable entry of a detail does: open another detail, be copied, be applied. */
export interface DetailItem {
  readonly open?: Detail;
  readonly copy?: string;
  readonly apply?: Suggestion;
}

export interface DetailModel {
  readonly title: string;
  readonly lines: readonly DetailLine[];
  readonly items: readonly DetailItem[];
  /** The suggestion `a` applies from this detail, whatever item is selected. */
  readonly apply?: Suggestion;
  readonly footer: string;
}

const str = (v: unknown): string =>
  typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v);
const list = <T>(v: unknown): readonly T[] => (Array.isArray(v) ? (v as T[]) : []);

const LAYERS: readonly Layer[] = ['keepalive', 'conntrack', 'ipvs', 'path', 'cloud', 'calico'];

/** Lines of a flow: endpoints, owner, keepalive, every layer's timeout and time left, its findings. */
export function flowDetail(
  raw: FlowView | undefined,
  ttb: number,
  findings: readonly Finding[],
  width: number,
): DetailModel {
  const w = Math.max(10, width);
  // The snapshot's flows are raw (made printable only where drawn).
  const flow = printableFlow(raw);
  if (!flow)
    return {
      title: 'Flow',
      lines: [{ text: 'This flow is gone from the latest diagnosis.', dim: true }],
      items: [],
      footer: 'Esc back',
    };
  const lines: DetailLine[] = [];
  for (const t of wrapLines(`${str(flow.proto) || 'tcp'} ${flowLabel(flow)}`, w))
    lines.push({ text: t, bold: true });
  lines.push({
    text: `owner ${fmtOwner(flow.owner)} · state ${str(flow.state) || DASH} · idle ${fmtDuration(flow.idleSec)}`,
  });
  if (flow.service) lines.push({ text: `service ${str(flow.service)}` });
  const ka = flow.keepalive;
  lines.push({
    text: ka
      ? ka.enabled
        ? `keepalive on: idle ${fmtDuration(ka.idleSec)}, every ${fmtDuration(ka.intervalSec)}, ${str(ka.probes)} probes (${str(ka.source)})`
        : `keepalive off (${str(ka.source)})`
      : 'keepalive unknown',
  });
  lines.push({ text: `seen by ${list<string>(flow.seenBy).join(', ') || DASH}`, dim: true });
  lines.push({ text: '' });
  lines.push({ text: 'LAYER      TIMEOUT  LEFT    SOURCE', dim: true });
  for (const l of LAYERS) {
    const lt = layerOf(flow, l);
    if (!lt) continue;
    const mark = flow.firstToForget === l ? ' ◀ forgets first' : '';
    const timeout = lt.timeoutSec === null ? 'never' : fmtDuration(lt.timeoutSec);
    for (const t of wrapLines(
      `${l.padEnd(10)} ${timeout.padStart(7)}  ${fmtDuration(lt.leftSec).padEnd(6)}  ${str(lt.source)}${mark}`,
      w,
    )) {
      lines.push({ text: t, ...(mark ? { color: 'red' } : {}) });
    }
  }
  lines.push({
    text: flow.firstToForget
      ? `Breaks: ${flow.firstToForget} forgets it in ${fmtDuration(ttb)} if it stays idle`
      : 'Safe: nothing forgets it before keepalive refreshes it',
    color: flow.firstToForget ? 'red' : 'green',
  });
  const items: DetailItem[] = [];
  if (findings.length > 0) {
    lines.push({ text: '' });
    lines.push({ text: 'Findings (Enter opens):', bold: true });
    findings.forEach((f, i) => {
      lines.push({
        text: `  ${str(f.fm)} ${str(f.title)}`,
        color: SEVERITY_COLOR[f.severity],
        item: i,
      });
      items.push({ open: { kind: 'finding', findingId: f.id, selected: 0 } });
    });
  }
  return { title: 'Flow', lines, items, footer: '↑↓ select · Enter open finding · Esc back' };
}

/** Lines of a finding: cause, flows, the evidence chain, then its suggestions. */
export function findingDetail(
  f: Finding | undefined,
  suggestions: readonly Suggestion[],
  width: number,
): DetailModel {
  const w = Math.max(10, width);
  if (!f)
    return {
      title: 'Finding',
      lines: [{ text: 'This finding is gone from the latest diagnosis.', dim: true }],
      items: [],
      footer: 'Esc back',
    };
  const lines: DetailLine[] = [];
  const items: DetailItem[] = [];
  const sevColor = SEVERITY_COLOR[f.severity] ?? undefined;
  for (const t of wrapLines(str(f.title) || DASH, w))
    lines.push({ text: t, bold: true, ...(sevColor ? { color: sevColor } : {}) });
  lines.push({
    text: `${str(f.fm) || DASH} · ${str(f.rule) || DASH} · ${str(f.severity) || DASH} · ${str(f.confidence) || DASH}`,
    dim: true,
  });
  for (const t of wrapLines(str(f.cause) || DASH, w)) lines.push({ text: t });
  const flows = list<string>(f.flows);
  if (flows.length > 0) {
    const shown = flows.slice(0, 3).join(', ');
    lines.push({
      text: `flows: ${shown}${flows.length > 3 ? ` (+${flows.length - 3} more)` : ''}`,
      dim: true,
    });
  }
  lines.push({ text: '' });
  const evidence = list<Finding['evidence'][number]>(f.evidence);
  lines.push({ text: `Evidence chain (${evidence.length}):`, bold: true });
  if (evidence.length === 0) lines.push({ text: '  none recorded', dim: true });
  evidence.forEach((e, i) => {
    const item = items.length;
    lines.push({
      text: `${String(i + 1).padStart(3)}. ${fmtClock(e?.t)} ${str(e?.src) || DASH}`,
      color: 'cyan',
      item,
    });
    for (const t of wrapLines(str(e?.text) || DASH, w, '     ', true))
      lines.push({ text: t, item });
    if (e?.note)
      for (const t of wrapLines(`↳ ${str(e.note)}`, w, '     '))
        lines.push({ text: t, dim: true, item });
    items.push({ copy: str(e?.text) });
  });
  lines.push({ text: '' });
  lines.push({
    text:
      suggestions.length > 0
        ? 'Suggestions (Enter opens, a applies):'
        : 'No suggestion for this finding.',
    bold: true,
  });
  // Without this a finding whose every change the race refused looks as if it needed none.
  if (suggestions.length === 0 && f.noFix)
    for (const t of wrapLines(str(f.noFix), w, '  ')) lines.push({ text: t, dim: true });
  for (const s of suggestions) {
    const item = items.length;
    const live = s.change ? ' [can apply]' : '';
    for (const t of wrapLines(
      `  ${str(s.rank)}. ${str(s.scope).padEnd(10)} ${str(s.title)}${live}`,
      w,
    ))
      lines.push({ text: t, color: 'green', item });
    items.push({ open: { kind: 'suggestion', suggestionId: s.id, selected: 0 }, apply: s });
  }
  return {
    title: 'Finding',
    lines,
    items,
    footer: '↑↓ select · Enter open suggestion · a apply · c copy · Esc back',
  };
}

/** Lines of a suggestion: rationale, the exact commands (each selectable for `c`), warnings, the live change. */
export function suggestionDetail(
  s: Suggestion | undefined,
  applied: readonly AppliedChange[],
  width: number,
): DetailModel {
  const w = Math.max(10, width);
  if (!s)
    return {
      title: 'Suggestion',
      lines: [{ text: 'This suggestion is gone from the latest diagnosis.', dim: true }],
      items: [],
      footer: 'Esc back',
    };
  const lines: DetailLine[] = [];
  const items: DetailItem[] = [];
  for (const t of wrapLines(str(s.title) || DASH, w))
    lines.push({ text: t, bold: true, color: 'green' });
  lines.push({
    text: `${str(s.id)} · scope ${str(s.scope) || DASH} · rank ${str(s.rank) || DASH}`,
    dim: true,
  });
  for (const t of wrapLines(str(s.rationale), w)) lines.push({ text: t });
  const fixes = list<string>(s.fixes);
  if (fixes.length > 0) lines.push({ text: `fixes: ${fixes.join(', ')}`, dim: true });
  lines.push({ text: '' });
  const cmds = list<{ label: string; text: string }>(s.commands);
  lines.push({
    text: cmds.length > 0 ? 'Commands (↑↓ select, c copies):' : 'No command.',
    bold: true,
  });
  for (const c of cmds) {
    const item = items.length;
    lines.push({ text: `  # ${str(c?.label)}`, dim: true, item });
    for (const t of wrapLines(str(c?.text), w, '  ', true))
      lines.push({ text: t, color: 'cyan', item });
    items.push({ copy: str(c?.text), apply: s });
  }
  const warnings = list<string>(s.warnings);
  if (warnings.length > 0) {
    lines.push({ text: '' });
    for (const wt of warnings)
      for (const t of wrapLines(`⚠ ${str(wt)}`, w)) lines.push({ text: t, color: 'yellow' });
  }
  lines.push({ text: '' });
  const change = describeChange(s);
  if (change.length > 0)
    lines.push({ text: `a applies it live: ${change.join('; ')}`, color: 'magenta' });
  else
    lines.push({
      text: "kdiag can't apply this live: run or paste the commands above.",
      dim: true,
    });
  for (const a of applied) {
    if (a?.suggestion === s.id)
      lines.push({
        text: `${a.reverted ? 'Reverted' : 'Applied'}: ${str(a.summary)} (journal ${str(a.journalId)})`,
        color: a.reverted ? 'gray' : 'green',
      });
  }
  return {
    title: 'Suggestion',
    lines,
    items,
    apply: s,
    footer: '↑↓ select · c copy · a apply · Esc back',
  };
}
