// KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1), bare or inside a kubeadm/EKS ConfigMap,
// with kube-proxy's own defaulting applied (pkg/proxy/apis/config/v1alpha1/defaults.go).
import parseDuration from 'parse-duration';
import { isScalar, LineCounter, parseAllDocuments, type Document } from 'yaml';
import { z } from 'zod';
import type { KubeProxySettings, ProxyMode } from '../model/kube-proxy.js';
import type { ParseIssue, ParseResult } from './result.js';

const API_VERSION = 'kubeproxy.config.k8s.io/v1alpha1';
const KIND = 'KubeProxyConfiguration';
const MAX_TEXT = 1_000_000;
const MODES: ReadonlySet<string> = new Set(['iptables', 'ipvs', 'nftables', 'kernelspace']);
// Go's time.ParseDuration grammar; the value itself is computed by parse-duration.
const GO_DURATION = /^[-+]?(?:0|(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+)$/;

/** kube-proxy's values when nothing is configured (nil pointers and zero values after defaulting). */
export function kubeProxyDefaults(): KubeProxySettings {
  return {
    mode: 'iptables',
    conntrack: {
      maxPerCore: 32768,
      min: 131072,
      tcpEstablishedTimeout: 86400,
      tcpCloseWaitTimeout: 3600,
      tcpBeLiberal: false,
      udpTimeout: 0,
      udpStreamTimeout: 0,
    },
    ipvs: { scheduler: 'rr', tcpTimeout: 0, tcpFinTimeout: 0, udpTimeout: 0, strictARP: false },
    origin: 'defaults',
    ignoredFlags: [],
    defaulted: [],
  };
}

/** Every field kubeProxyDefaults() fills, by YAML path. */
export const KUBE_PROXY_FIELDS = [
  'mode',
  'conntrack.maxPerCore',
  'conntrack.min',
  'conntrack.tcpEstablishedTimeout',
  'conntrack.tcpCloseWaitTimeout',
  'conntrack.tcpBeLiberal',
  'conntrack.udpTimeout',
  'conntrack.udpStreamTimeout',
  'ipvs.scheduler',
  'ipvs.tcpTimeout',
  'ipvs.tcpFinTimeout',
  'ipvs.udpTimeout',
  'ipvs.strictARP',
] as const;

export type KubeProxyField = (typeof KUBE_PROXY_FIELDS)[number];

type Outcome<T> = { ok: true; value: T } | { ok: false; message: string };

/** Whole seconds of a Go duration string (`24h0m0s`, `0s`, `1.5s` → 1); negative values refused. */
export function goDurationSeconds(text: string): Outcome<number> {
  if (text.length > 64 || !GO_DURATION.test(text))
    return { ok: false, message: `"${text.slice(0, 40)}" is not a Go duration` };
  const sec = parseDuration(text, 's');
  if (sec === null || sec === undefined || !Number.isFinite(sec))
    return { ok: false, message: `"${text}" is not a duration` };
  if (sec < 0) return { ok: false, message: `negative duration ${text}` };
  // metav1.Duration → Seconds() is truncated by the int conversion in kube-proxy.
  return { ok: true, value: Math.trunc(sec + 1e-9) };
}

/** Parses a mode value; "" means the platform default (iptables on Linux). */
export function proxyModeOf(text: string): ProxyMode | undefined {
  if (text === '') return 'iptables';
  return MODES.has(text) ? (text as ProxyMode) : undefined;
}

const int32 = z.number().int().min(0).max(2_147_483_647);
const duration = z.string().max(64);
const FIELD_SCHEMAS: Record<KubeProxyField, z.ZodType> = {
  mode: z.string().max(32).nullable(),
  'conntrack.maxPerCore': int32.nullable(),
  'conntrack.min': int32.nullable(),
  'conntrack.tcpEstablishedTimeout': duration.nullable(),
  'conntrack.tcpCloseWaitTimeout': duration.nullable(),
  'conntrack.tcpBeLiberal': z.boolean().nullable(),
  'conntrack.udpTimeout': duration.nullable(),
  'conntrack.udpStreamTimeout': duration.nullable(),
  'ipvs.scheduler': z.string().max(32).nullable(),
  'ipvs.tcpTimeout': duration.nullable(),
  'ipvs.tcpFinTimeout': duration.nullable(),
  'ipvs.udpTimeout': duration.nullable(),
  'ipvs.strictARP': z.boolean().nullable(),
};

const DURATIONS: ReadonlySet<KubeProxyField> = new Set([
  'conntrack.tcpEstablishedTimeout',
  'conntrack.tcpCloseWaitTimeout',
  'conntrack.udpTimeout',
  'conntrack.udpStreamTimeout',
  'ipvs.tcpTimeout',
  'ipvs.tcpFinTimeout',
  'ipvs.udpTimeout',
]);

const Header = z.looseObject({ apiVersion: z.unknown().optional(), kind: z.unknown().optional() });
const Section = z.union([z.looseObject({}), z.null()]).optional();

type Mutable = {
  mode: ProxyMode;
  conntrack: {
    -readonly [K in keyof KubeProxySettings['conntrack']]: KubeProxySettings['conntrack'][K];
  };
  ipvs: { -readonly [K in keyof KubeProxySettings['ipvs']]: KubeProxySettings['ipvs'][K] };
};

/** Sets one field from a validated YAML value; returns an issue message when the value is refused. */
export function applyKubeProxyField(
  s: Mutable,
  field: KubeProxyField,
  raw: string | number | boolean,
): string | undefined {
  if (field === 'mode') {
    const mode = proxyModeOf(String(raw));
    if (mode === undefined) return `unknown proxy mode "${String(raw).slice(0, 32)}"`;
    s.mode = mode;
    return undefined;
  }
  const [section, key] = field.split('.') as ['conntrack' | 'ipvs', string];
  let value: number | boolean | string = raw;
  if (DURATIONS.has(field)) {
    const d = goDurationSeconds(String(raw));
    if (!d.ok) return d.message;
    value = d.value;
  }
  if (field === 'ipvs.scheduler' && raw === '') value = 'rr';
  (s[section] as Record<string, unknown>)[key] = value;
  return undefined;
}

function isEmpty(v: unknown): boolean {
  return v === undefined || v === null;
}

interface Located {
  readonly config: unknown;
  /** Maps a path inside the config to a 1-based line of the original text. */
  readonly lineOf: (path: readonly string[]) => number;
}

function docLineOf(doc: Document, lc: LineCounter, offset: (line: number) => number) {
  return (path: readonly string[]): number => {
    for (let k = path.length; k >= 0; k--) {
      const node = k === 0 ? doc.contents : doc.getIn(path.slice(0, k), true);
      const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
      if (range !== undefined) return offset(lc.linePos(range[0]).line);
    }
    return offset(1);
  };
}

function parseYaml(
  text: string,
  issues: ParseIssue[],
  lineOffset: (line: number) => number,
): { doc: Document; lc: LineCounter } | undefined {
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lc, uniqueKeys: true });
  const list = Array.isArray(docs) ? docs : [];
  for (const d of list) {
    for (const e of d.errors) {
      issues.push({
        line: lineOffset(e.linePos?.[0].line ?? 1),
        code: 'kube-proxy.yaml-syntax',
        message: e.message.split('\n')[0]!.slice(0, 200),
      });
    }
  }
  if (issues.length > 0) return undefined;
  const pick =
    list.find((d) => {
      const kind = d.get('kind');
      return kind === KIND || kind === 'ConfigMap';
    }) ?? list[0];
  return pick === undefined ? undefined : { doc: pick, lc };
}

function locate(text: string, issues: ParseIssue[]): Located | undefined {
  const outer = parseYaml(text, issues, (l) => l);
  if (outer === undefined) return undefined;
  const { doc, lc } = outer;
  const js: unknown = doc.toJS({ maxAliasCount: 100 });
  const header = Header.safeParse(js);
  if (!header.success) {
    issues.push({
      line: 1,
      code: 'kube-proxy.not-a-mapping',
      message: 'the YAML is not a mapping',
    });
    return undefined;
  }
  if (header.data.kind !== 'ConfigMap') return { config: js, lineOf: docLineOf(doc, lc, (l) => l) };
  // kubeadm stores the file under data["config.conf"], EKS under data["config"].
  const key = ['config.conf', 'config'].find((k) => typeof doc.getIn(['data', k]) === 'string');
  if (key === undefined) {
    issues.push({
      line: docLineOf(doc, lc, (l) => l)(['data']),
      code: 'kube-proxy.no-config-key',
      message: 'ConfigMap has no data["config.conf"] or data["config"]',
    });
    return undefined;
  }
  const node = doc.getIn(['data', key], true);
  const start = isScalar(node) && node.range ? lc.linePos(node.range[0]).line : 1;
  const block = isScalar(node) && (node.type === 'BLOCK_LITERAL' || node.type === 'BLOCK_FOLDED');
  const offset = (l: number): number => (block ? start + l : start);
  const inner = parseYaml(String(doc.getIn(['data', key])), issues, offset);
  if (inner === undefined) return undefined;
  return {
    config: inner.doc.toJS({ maxAliasCount: 100 }),
    lineOf: docLineOf(inner.doc, inner.lc, offset),
  };
}

function fieldValue(config: Record<string, unknown>, field: KubeProxyField): unknown {
  const parts = field.split('.');
  let v: unknown = config;
  for (const p of parts) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[p];
  }
  return v;
}

/** Parses a KubeProxyConfiguration (bare, kubeadm or EKS ConfigMap) and applies kube-proxy's defaults. */
export function parseKubeProxyConfig(yamlText: string): ParseResult<KubeProxySettings> {
  const issues: ParseIssue[] = [];
  const base = kubeProxyDefaults();
  const fallback = (): ParseResult<KubeProxySettings> => ({
    value: { ...base, origin: 'config-file', defaulted: [...KUBE_PROXY_FIELDS] },
    issues,
  });
  if (yamlText.length > MAX_TEXT) {
    issues.push({
      line: 1,
      code: 'kube-proxy.too-large',
      message: `config larger than ${MAX_TEXT} characters`,
    });
    return fallback();
  }
  let located: Located | undefined;
  try {
    located = locate(yamlText, issues);
  } catch (e) {
    // yaml throws on alias bombs (maxAliasCount) and similar hostile input.
    issues.push({
      line: 1,
      code: 'kube-proxy.yaml-syntax',
      message: e instanceof Error ? e.message.slice(0, 200) : 'unreadable YAML',
    });
    return fallback();
  }
  if (located === undefined) return fallback();
  const { config, lineOf } = located;
  const header = Header.safeParse(config);
  if (!header.success) {
    issues.push({
      line: 1,
      code: 'kube-proxy.not-a-mapping',
      message: 'the config is not a mapping',
    });
    return fallback();
  }
  const cfg = header.data as Record<string, unknown>;
  if (cfg.apiVersion !== API_VERSION) {
    issues.push({
      line: lineOf(['apiVersion']),
      code: 'kube-proxy.unknown-api-version',
      message: `apiVersion ${JSON.stringify(cfg.apiVersion ?? null).slice(0, 80)} is not ${API_VERSION}`,
    });
  }
  if (cfg.kind !== KIND) {
    issues.push({
      line: lineOf(['kind']),
      code: 'kube-proxy.unknown-kind',
      message: `kind ${JSON.stringify(cfg.kind ?? null).slice(0, 80)} is not ${KIND}`,
    });
  }
  for (const section of ['conntrack', 'ipvs']) {
    if (!Section.safeParse(cfg[section]).success) {
      issues.push({
        line: lineOf([section]),
        code: 'kube-proxy.bad-field',
        message: `${section} is not a mapping`,
      });
    }
  }
  const s: Mutable = { mode: base.mode, conntrack: { ...base.conntrack }, ipvs: { ...base.ipvs } };
  const defaulted: string[] = [];
  for (const field of KUBE_PROXY_FIELDS) {
    const raw = fieldValue(cfg, field);
    if (isEmpty(raw) || ((field === 'mode' || field === 'ipvs.scheduler') && raw === '')) {
      defaulted.push(field);
      continue;
    }
    const checked = FIELD_SCHEMAS[field].safeParse(raw);
    const line = lineOf(field.split('.'));
    if (!checked.success) {
      issues.push({
        line,
        code: DURATIONS.has(field) ? 'kube-proxy.bad-duration' : 'kube-proxy.bad-field',
        message: `${field}: ${checked.error.issues[0]?.message ?? 'invalid'}`,
      });
      defaulted.push(field);
      continue;
    }
    const refused = applyKubeProxyField(s, field, checked.data as string | number | boolean);
    if (refused !== undefined) {
      issues.push({
        line,
        code: DURATIONS.has(field) ? 'kube-proxy.bad-duration' : 'kube-proxy.bad-field',
        message: `${field}: ${refused}`,
      });
      defaulted.push(field);
    }
  }
  return { value: { ...s, origin: 'config-file', ignoredFlags: [], defaulted }, issues };
}
