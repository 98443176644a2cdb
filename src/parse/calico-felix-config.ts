// A FelixConfiguration as `kubectl get felixconfiguration default -o yaml` (or calicoctl) prints it,
// alone or as the items of a List: its bpfEnabled and bpfConntrackTimeouts (field names from
// api/pkg/apis/projectcalico/v3/felixconfig.go BPFConntrackTimeouts; values are Go durations or
// `Auto`, the pattern the CRD validates).
import { LineCounter, parseAllDocuments, type Document } from 'yaml';
import { CALICO_CT_TIMEOUT_FIELDS, type FelixConfig } from '../model/calico.js';
import { goDurationSec } from './calico-duration.js';
import type { ParseIssue, ParseResult } from './result.js';

const KIND = 'FelixConfiguration';
const MAX_TEXT = 1_000_000;
const FIELDS: ReadonlySet<string> = new Set(CALICO_CT_TIMEOUT_FIELDS.map((f) => f.yaml));

/** The FelixConfiguration named `default` (else the first one) of the text; undefined when none. */
export function parseFelixConfig(text: string): ParseResult<FelixConfig | undefined> {
  const issues: ParseIssue[] = [];
  if (text.length > MAX_TEXT) {
    issues.push({
      line: 1,
      code: 'felix.too-large',
      message: `larger than ${MAX_TEXT} characters`,
    });
    return { value: undefined, issues };
  }
  const lc = new LineCounter();
  let docs: Document[];
  try {
    docs = parseAllDocuments(text, { lineCounter: lc, uniqueKeys: true }) as Document[];
  } catch (e) {
    issues.push({ line: 1, code: 'felix.yaml-syntax', message: firstLine(e) });
    return { value: undefined, issues };
  }
  const lineAt = (node: unknown): number => {
    const r = (node as { range?: [number, number, number] } | null | undefined)?.range;
    return r ? lc.linePos(r[0]).line : 1;
  };
  for (const d of docs)
    for (const e of d.errors)
      issues.push({
        line: e.linePos?.[0].line ?? 1,
        code: 'felix.yaml-syntax',
        message: e.message.split('\n')[0]!.slice(0, 200),
      });
  if (issues.length > 0) return { value: undefined, issues };
  // Each candidate: the path of the object inside its document.
  const found: { doc: Document; path: (string | number)[] }[] = [];
  for (const doc of docs) {
    const kind = doc.get('kind');
    if (kind === KIND) found.push({ doc, path: [] });
    else if (kind === 'List' || kind === 'FelixConfigurationList') {
      const items = doc.get('items');
      const n = (items as { items?: unknown[] } | undefined)?.items?.length ?? 0;
      for (let i = 0; i < n; i++)
        if (doc.getIn(['items', i, 'kind']) === KIND) found.push({ doc, path: ['items', i] });
    }
  }
  if (found.length === 0) {
    issues.push({
      line: 1,
      code: 'felix.not-felixconfiguration',
      message: `no kind: ${KIND} in the text`,
    });
    return { value: undefined, issues };
  }
  const pick =
    found.find((c) => c.doc.getIn([...c.path, 'metadata', 'name']) === 'default') ?? found[0]!;
  const { doc, path } = pick;
  const name = doc.getIn([...path, 'metadata', 'name']);
  const bpf = doc.getIn([...path, 'spec', 'bpfEnabled']);
  const timeouts: Record<string, string> = {};
  const lines: Record<string, number> = {};
  const seconds: Record<string, number> = {};
  const tPath = [...path, 'spec', 'bpfConntrackTimeouts'];
  const t = doc.getIn(tPath, true);
  const pairs = (t as { items?: { key?: unknown; value?: unknown }[] } | undefined)?.items ?? [];
  for (const pair of pairs) {
    const k = scalar(pair.key);
    const line = lineAt(pair.key);
    if (k === undefined || !FIELDS.has(k)) {
      issues.push({
        line,
        code: 'felix.unknown-timeout',
        message: `bpfConntrackTimeouts.${String(k).slice(0, 40)} is not a field Felix knows`,
      });
      continue;
    }
    const v = scalar(pair.value);
    if (v === undefined || (v !== 'Auto' && goDurationSec(v) === undefined)) {
      issues.push({
        line: lineAt(pair.value),
        code: 'felix.bad-timeout',
        message: `bpfConntrackTimeouts.${k}: "${String(v).slice(0, 40)}" is neither a duration nor Auto (Felix uses its default)`,
      });
      continue;
    }
    timeouts[k] = v;
    lines[k] = line;
    const sec = goDurationSec(v);
    if (sec !== undefined) seconds[k] = sec;
  }
  return {
    value: {
      name: typeof name === 'string' ? name : '?',
      ...(typeof bpf === 'boolean' ? { bpfEnabled: bpf } : {}),
      timeouts,
      seconds,
      lines,
    },
    issues,
  };
}

function scalar(node: unknown): string | undefined {
  const v = (node as { value?: unknown } | null | undefined)?.value;
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
}

function firstLine(e: unknown): string {
  return e instanceof Error ? e.message.split('\n')[0]!.slice(0, 200) : 'unreadable YAML';
}
