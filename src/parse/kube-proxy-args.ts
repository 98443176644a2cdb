// The kube-proxy command line (flags, one per line, on one line, or NUL-separated /proc/<pid>/cmdline).
import type { KubeProxySettings } from '../model/kube-proxy.js';
import {
  applyKubeProxyField,
  KUBE_PROXY_FIELDS,
  kubeProxyDefaults,
  type KubeProxyField,
} from './kube-proxy-config.js';
import type { ParseIssue, ParseResult } from './result.js';

const MAX_TEXT = 256 * 1024;
const MAX_ARGS = 4096;

export interface KubeProxyArgs {
  readonly args: string[];
  readonly configPath?: string;
  readonly settings: KubeProxySettings;
}

type FlagKind = 'string' | 'int' | 'duration' | 'bool';

/** Flags that kdiag models; all but --config are dropped by kube-proxy when --config is given. */
const FLAGS: Readonly<Record<string, { field?: KubeProxyField; kind: FlagKind }>> = {
  'proxy-mode': { field: 'mode', kind: 'string' },
  'conntrack-max-per-core': { field: 'conntrack.maxPerCore', kind: 'int' },
  'conntrack-min': { field: 'conntrack.min', kind: 'int' },
  'conntrack-tcp-timeout-established': {
    field: 'conntrack.tcpEstablishedTimeout',
    kind: 'duration',
  },
  'conntrack-tcp-timeout-close-wait': { field: 'conntrack.tcpCloseWaitTimeout', kind: 'duration' },
  'conntrack-tcp-be-liberal': { field: 'conntrack.tcpBeLiberal', kind: 'bool' },
  'conntrack-udp-timeout': { field: 'conntrack.udpTimeout', kind: 'duration' },
  'conntrack-udp-timeout-stream': { field: 'conntrack.udpStreamTimeout', kind: 'duration' },
  'ipvs-scheduler': { field: 'ipvs.scheduler', kind: 'string' },
  'ipvs-tcp-timeout': { field: 'ipvs.tcpTimeout', kind: 'duration' },
  'ipvs-tcpfin-timeout': { field: 'ipvs.tcpFinTimeout', kind: 'duration' },
  'ipvs-udp-timeout': { field: 'ipvs.udpTimeout', kind: 'duration' },
  'ipvs-strict-arp': { field: 'ipvs.strictARP', kind: 'bool' },
  config: { kind: 'string' },
};

// Flags of kube-proxy that take no value (pflag NoOptDefVal); others consume the next word.
const OTHER_BOOL_FLAGS = new Set([
  'cleanup',
  'init-only',
  'masquerade-all',
  'profiling',
  'alsologtostderr',
  'logtostderr',
  'add-dir-header',
  'skip-headers',
  'skip-log-headers',
  'one-output',
  'help',
  'version',
]);

interface Word {
  readonly text: string;
  readonly line: number;
}

/** Splits one line on blanks, honouring '…' and "…" quoting (no expansion), and YAML "- " items. */
function splitLine(line: string, n: number, issues: ParseIssue[]): Word[] {
  const words: Word[] = [];
  let s = line.trim();
  if (s.startsWith('- ')) s = s.slice(2).trim();
  let i = 0;
  while (i < s.length) {
    while (s[i] === ' ' || s[i] === '\t') i++;
    if (i >= s.length) break;
    let w = '';
    while (i < s.length && s[i] !== ' ' && s[i] !== '\t') {
      const q = s[i];
      if (q === '"' || q === "'") {
        const end = s.indexOf(q, i + 1);
        if (end < 0) {
          issues.push({
            line: n,
            code: 'kube-proxy.bad-quote',
            message: 'unterminated quote',
            text: line.slice(0, 200),
          });
          w += s.slice(i + 1);
          i = s.length;
          break;
        }
        w += s.slice(i + 1, end);
        i = end + 1;
      } else {
        w += q;
        i++;
      }
    }
    words.push({ text: w, line: n });
  }
  return words;
}

function words(text: string, issues: ParseIssue[]): Word[] {
  if (text.includes('\0')) {
    // /proc/<pid>/cmdline: argv verbatim, NUL-terminated; line numbers count arguments.
    const parts = text.split('\0');
    if (parts[parts.length - 1] === '') parts.pop();
    return parts.map((p, k) => ({ text: p, line: k + 1 }));
  }
  return text.split('\n').flatMap((l, k) => splitLine(l.replace(/\r$/, ''), k + 1, issues));
}

function parseBool(v: string): boolean | undefined {
  // strconv.ParseBool
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) return false;
  return undefined;
}

function settingsFrom(
  given: Map<KubeProxyField, { raw: string; kind: FlagKind; line: number }>,
  issues: ParseIssue[],
): KubeProxySettings {
  const base = kubeProxyDefaults();
  const s = { mode: base.mode, conntrack: { ...base.conntrack }, ipvs: { ...base.ipvs } };
  const defaulted: string[] = [];
  for (const field of KUBE_PROXY_FIELDS) {
    const g = given.get(field);
    if (g === undefined || ((field === 'mode' || field === 'ipvs.scheduler') && g.raw === '')) {
      defaulted.push(field);
      continue;
    }
    let value: string | number | boolean = g.raw;
    let refused: string | undefined;
    if (g.kind === 'bool') {
      const b = parseBool(g.raw);
      if (b === undefined) refused = `"${g.raw.slice(0, 20)}" is not a boolean`;
      else value = b;
    } else if (g.kind === 'int') {
      const n = Number(g.raw);
      if (!/^\d{1,10}$/.test(g.raw) || n > 2_147_483_647)
        refused = `"${g.raw.slice(0, 20)}" is not a non-negative int32`;
      else value = n;
    }
    refused ??= applyKubeProxyField(s, field, value);
    if (refused !== undefined) {
      issues.push({
        line: g.line,
        code: g.kind === 'duration' ? 'kube-proxy.bad-duration' : 'kube-proxy.bad-flag',
        message: `${field}: ${refused}`,
      });
      defaulted.push(field);
    }
  }
  return { ...s, origin: 'flags', ignoredFlags: [], defaulted };
}

/** Parses kube-proxy's argv; with --config the modelled flags are listed as ignored, as kube-proxy does. */
export function parseKubeProxyArgs(text: string): ParseResult<KubeProxyArgs> {
  const issues: ParseIssue[] = [];
  if (text.length > MAX_TEXT) {
    issues.push({
      line: 1,
      code: 'kube-proxy.too-large',
      message: `command line longer than ${MAX_TEXT} characters`,
    });
    text = '';
  }
  let list = words(text, issues);
  if (list.length > MAX_ARGS) {
    issues.push({
      line: list[MAX_ARGS]!.line,
      code: 'kube-proxy.too-many-args',
      message: `more than ${MAX_ARGS} arguments`,
    });
    list = list.slice(0, MAX_ARGS);
  }
  const given = new Map<KubeProxyField, { raw: string; kind: FlagKind; line: number }>();
  const modelled: string[] = [];
  let configPath: string | undefined;
  for (let i = 0; i < list.length; i++) {
    const w = list[i]!;
    // pflag stops reading flags at `--`: what follows is positional.
    if (w.text === '--') break;
    if (!w.text.startsWith('-') || w.text === '-') continue;
    const body = w.text.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    let value: string | undefined = eq >= 0 ? body.slice(eq + 1) : undefined;
    const known = FLAGS[name];
    const isBool = known !== undefined ? known.kind === 'bool' : OTHER_BOOL_FLAGS.has(name);
    if (value === undefined && !isBool) {
      const next = list[i + 1];
      // pflag takes the next argument as the value of a non-boolean flag, whatever it looks like.
      if (next !== undefined && (known !== undefined || !next.text.startsWith('-'))) {
        value = next.text;
        i++;
      } else if (known !== undefined) {
        issues.push({
          line: w.line,
          code: 'kube-proxy.missing-value',
          message: `--${name} needs a value`,
        });
        continue;
      }
    }
    if (known === undefined) continue;
    const raw = value ?? 'true';
    if (name === 'config') {
      configPath = raw;
      continue;
    }
    given.set(known.field!, { raw, kind: known.kind, line: w.line });
    modelled.push(`--${name}=${raw}`);
  }
  const args = list.map((w) => w.text);
  if (configPath !== undefined) {
    // Options.Complete() replaces the flag-built config with the file (cmd/kube-proxy/app/options.go).
    const settings: KubeProxySettings = {
      ...kubeProxyDefaults(),
      origin: 'config-file',
      configPath,
      ignoredFlags: modelled,
      defaulted: [...KUBE_PROXY_FIELDS],
    };
    return { value: { args, configPath, settings }, issues };
  }
  return { value: { args, settings: settingsFrom(given, issues) }, issues };
}

/** Effective settings: the config file wins when --config names it; flags only matter without it. */
export function resolveKubeProxy(
  args: ParseResult<KubeProxyArgs> | undefined,
  config: ParseResult<KubeProxySettings> | undefined,
): KubeProxySettings {
  const fromArgs = args?.value;
  if (fromArgs === undefined) return config?.value ?? kubeProxyDefaults();
  if (fromArgs.configPath === undefined) return fromArgs.settings;
  if (config === undefined) return fromArgs.settings;
  return {
    ...config.value,
    origin: 'config-file',
    configPath: fromArgs.configPath,
    ignoredFlags: fromArgs.settings.ignoredFlags,
  };
}
