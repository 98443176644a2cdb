// The Prometheus text exposition format 0.0.4 (what kube-proxy's /metrics serves: client_golang's
// expfmt text_create.go via k8s component-base), strictly: `# HELP`/`# TYPE` lines, samples
// `name{label="value",…} value [timestamp]`, label values with the \\ \" \n escapes, Go float
// spellings (`1.733e+09`, `+Inf`, `NaN`). A line that breaks the grammar is an issue, never a guess.
// npm's parsers were no fit: parse-prometheus-text-format (last release 2019) throws on bad input
// and keeps no line numbers; prom-client only writes the format.
import type { ParseIssue, ParseResult } from './result.js';

export type PromType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface PromSample {
  /** The sample's own name (`…_bucket`, `…_sum` for histograms). */
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  readonly line: number;
}

export interface PromFamily {
  readonly name: string;
  readonly type: PromType;
  readonly help?: string;
  readonly samples: PromSample[];
}

export interface PromExposition {
  /** Families by name, in the order they first appear. */
  readonly families: ReadonlyMap<string, PromFamily>;
  readonly samples: number;
}

const MAX_TEXT = 16_000_000;
const MAX_LINE = 65_536;
const MAX_LABELS = 64;
const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES: ReadonlySet<string> = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const SUFFIXES = ['_bucket', '_sum', '_count'] as const;

/** A Go-formatted float (`ParseFloat` grammar as expfmt writes it), or undefined. */
export function promFloat(text: string): number | undefined {
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

/** Reads `{a="x",b="y"}` from `s` at `i` (at the `{`); returns the labels and the index after `}`. */
function readLabels(
  s: string,
  i: number,
): { labels: Record<string, string>; end: number } | string {
  const labels: Record<string, string> = {};
  let p = i + 1;
  let count = 0;
  for (;;) {
    while (s[p] === ' ') p++;
    if (s[p] === '}') return { labels, end: p + 1 };
    const eq = s.indexOf('=', p);
    if (eq < 0) return 'label without "="';
    const name = s.slice(p, eq).trim();
    if (!LABEL_NAME.test(name)) return `bad label name "${name.slice(0, 40)}"`;
    if (s[eq + 1] !== '"') return `label ${name}: value not quoted`;
    let v = '';
    let q = eq + 2;
    for (; q < s.length && s[q] !== '"'; q++) {
      if (s[q] === '\\') {
        const c = s[++q];
        if (c === 'n') v += '\n';
        else if (c === '\\' || c === '"') v += c;
        else return `label ${name}: bad escape \\${c ?? ''}`;
      } else v += s[q];
    }
    if (q >= s.length) return `label ${name}: unterminated value`;
    if (Object.hasOwn(labels, name)) return `label ${name} given twice`;
    labels[name] = v;
    if (++count > MAX_LABELS) return 'too many labels';
    p = q + 1;
    while (s[p] === ' ') p++;
    if (s[p] === ',') p++;
    else if (s[p] !== '}') return `expected "," or "}" after label ${name}`;
  }
}

/** The family a sample name belongs to: itself, or its histogram/summary base. */
function familyOf(name: string, families: Map<string, PromFamily>): string {
  if (families.has(name)) return name;
  for (const suf of SUFFIXES)
    if (name.endsWith(suf)) {
      const base = name.slice(0, -suf.length);
      const f = families.get(base);
      if (f && (f.type === 'histogram' || f.type === 'summary')) return base;
    }
  return name;
}

/** Parses one exposition; bad lines are issues (`prom.*`) and the rest still counts. */
export function parsePrometheusText(text: string): ParseResult<PromExposition> {
  const families = new Map<string, PromFamily>();
  const issues: ParseIssue[] = [];
  let samples = 0;
  if (text.length > MAX_TEXT) {
    issues.push({
      line: 1,
      code: 'prom.too-large',
      message: `over ${MAX_TEXT} characters`,
      text: '',
    });
    return { value: { families, samples }, issues };
  }
  const bad = (line: number, code: string, message: string, t: string): void => {
    issues.push({ line, code, message, text: t.slice(0, 200) });
  };
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  lines.forEach((raw, idx) => {
    const no = idx + 1;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') return;
    if (line.length > MAX_LINE) return bad(no, 'prom.line-too-long', 'line too long', line);
    if (line.startsWith('#')) {
      const m = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(line);
      if (!m) return; // other comments are allowed and mean nothing
      const [, what, name, rest = ''] = m as unknown as [string, string, string, string?];
      if (!NAME.test(name)) return bad(no, 'prom.bad-name', `bad metric name "${name}"`, line);
      const prev = families.get(name);
      if (what === 'TYPE') {
        const type = rest.trim();
        if (!TYPES.has(type)) return bad(no, 'prom.bad-type', `unknown type "${type}"`, line);
        if (prev && prev.samples.length > 0)
          return bad(no, 'prom.type-after-samples', `TYPE of ${name} after its samples`, line);
        if (prev && prev.type !== 'untyped' && prev.type !== type)
          return bad(no, 'prom.duplicate-type', `second TYPE for ${name}`, line);
        families.set(name, { ...(prev ?? { name, samples: [] }), type: type as PromType });
      } else {
        const help = rest.replace(/\\(n|\\)/g, (_, c: string) => (c === 'n' ? '\n' : '\\'));
        families.set(name, { ...(prev ?? { name, type: 'untyped', samples: [] }), help });
      }
      return;
    }
    const nameEnd = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
    if (!nameEnd) return bad(no, 'prom.bad-name', 'a sample must start with a metric name', line);
    const name = nameEnd[0];
    let p = name.length;
    let labels: Record<string, string> = {};
    if (line[p] === '{') {
      const r = readLabels(line, p);
      if (typeof r === 'string') return bad(no, 'prom.bad-labels', r, line);
      labels = r.labels;
      p = r.end;
    }
    const rest = line.slice(p).trim().split(/\s+/);
    if (line[p] !== ' ' && line[p] !== '\t')
      return bad(no, 'prom.bad-sample', 'expected a space before the value', line);
    if (rest.length < 1 || rest.length > 2 || rest[0] === '')
      return bad(no, 'prom.bad-sample', 'expected a value and an optional timestamp', line);
    const value = promFloat(rest[0]!);
    if (value === undefined) return bad(no, 'prom.bad-value', `bad value "${rest[0]}"`, line);
    if (rest[1] !== undefined && !/^-?\d{1,20}$/.test(rest[1]))
      return bad(no, 'prom.bad-timestamp', `bad timestamp "${rest[1]}"`, line);
    const fam = familyOf(name, families);
    let f = families.get(fam);
    if (!f) {
      f = { name: fam, type: 'untyped', samples: [] };
      families.set(fam, f);
    }
    f.samples.push({ name, labels, value, line: no });
    samples++;
  });
  return { value: { families, samples }, issues };
}

/** The first sample of a family whose labels include `match`, or undefined. */
export function promValue(
  e: PromExposition,
  name: string,
  match: Readonly<Record<string, string>> = {},
): PromSample | undefined {
  return e.families
    .get(name)
    ?.samples.find(
      (s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v),
    );
}
