// `iptables-save [-c]`: rules, chain declarations, INVALID drop rules and kube-proxy's Service chains.
import type {
  InvalidDropRule,
  IptablesRule,
  IptablesRuleset,
  ServicePortRef,
} from '../model/iptables.js';
import { parseIpvsEndpoint } from './ipvsadm-services.js';
import { clip, type ParseIssue, type ParseResult } from './result.js';

const MAX_LINE = 16_384;
const MAX_TOKENS = 512;
const BUILTIN = new Set(['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING']);
const CHAIN = /^[^\s"']{1,64}$/;
// kube-proxy's ServicePortName: "ns/name" plus ":port" when the port is named (older: "ns/name:").
const CLUSTER_IP_COMMENT =
  /^([a-z0-9][a-z0-9.-]{0,252})\/([a-z0-9][a-z0-9.-]{0,252})(?::([^\s]{0,63}))? (cluster IP|has no endpoints)$/;

type TokenOutcome = { ok: true; tokens: string[] } | { ok: false; message: string };

/** Splits a rule the way iptables-save quotes it: "…" with \" and \\ escapes. */
export function tokenizeIptablesRule(spec: string): TokenOutcome {
  const tokens: string[] = [];
  let i = 0;
  while (i < spec.length) {
    while (spec[i] === ' ' || spec[i] === '\t') i++;
    if (i >= spec.length) break;
    let tok = '';
    if (spec[i] === '"') {
      i++;
      let closed = false;
      while (i < spec.length) {
        const ch = spec[i]!;
        if (ch === '\\' && i + 1 < spec.length) {
          tok += spec[i + 1];
          i += 2;
        } else if (ch === '"') {
          closed = true;
          i++;
          break;
        } else {
          tok += ch;
          i++;
        }
      }
      if (!closed) return { ok: false, message: 'unterminated quote' };
    } else {
      while (i < spec.length && spec[i] !== ' ' && spec[i] !== '\t') tok += spec[i++];
    }
    tokens.push(tok);
    if (tokens.length > MAX_TOKENS) return { ok: false, message: `more than ${MAX_TOKENS} words` };
  }
  return { ok: true, tokens };
}

interface Parsed extends IptablesRule {
  readonly tokens: readonly string[];
}

function optionValue(tokens: readonly string[], name: string): string | undefined {
  const i = tokens.indexOf(name);
  return i >= 0 ? tokens[i + 1] : undefined;
}

/** True when the rule matches conntrack state INVALID (conntrack --ctstate or legacy state --state). */
function matchesInvalid(tokens: readonly string[]): boolean {
  for (let i = 0; i < tokens.length - 1; i++) {
    const t = tokens[i];
    if ((t === '--ctstate' || t === '--state') && tokens[i - 1] !== '!') {
      if (tokens[i + 1]!.split(',').includes('INVALID')) return true;
    }
  }
  return false;
}

function stripPrefix(cidr: string): string | undefined {
  const m = /^([0-9a-fA-F:.]{2,45})\/(32|128)$/.exec(cidr);
  return m === null ? undefined : m[1]!.toLowerCase();
}

/** For each table, which chains jump (-j/-g) to each target: built once, so finding hooks is linear. */
function jumpIndex(rules: readonly Parsed[]): Map<string, string[]> {
  const from = new Map<string, string[]>();
  for (const r of rules) {
    if (r.target === undefined) continue;
    const key = `${r.table}\u0000${r.target}`;
    const list = from.get(key);
    if (list === undefined) from.set(key, [r.chain]);
    else list.push(r.chain);
  }
  return from;
}

/** Base chains from which `chain` is reached through -j/-g jumps in its table (breadth first). */
function hooksOf(table: string, chain: string, jumps: Map<string, string[]>): string[] {
  if (BUILTIN.has(chain)) return [chain];
  const hooks: string[] = [];
  const seen = new Set([chain]);
  const queue = [chain];
  // An index, not shift(): shift() is linear, and a chain of 10^5 jumps made this quadratic.
  for (let q = 0; q < queue.length; q++) {
    for (const from of jumps.get(`${table}\u0000${queue[q]!}`) ?? []) {
      if (seen.has(from)) continue;
      seen.add(from);
      if (BUILTIN.has(from)) hooks.push(from);
      else queue.push(from);
    }
  }
  return hooks;
}

function findServices(rules: readonly Parsed[]): ServicePortRef[] {
  const byChain = new Map<string, Parsed[]>();
  for (const r of rules) {
    if (r.table !== 'nat') continue;
    const list = byChain.get(r.chain) ?? [];
    list.push(r);
    byChain.set(r.chain, list);
  }
  const dnatOf = (sep: string): { addr: string; port: number }[] =>
    (byChain.get(sep) ?? []).flatMap((r) => {
      if (r.target !== 'DNAT') return [];
      const ep = parseIpvsEndpoint(optionValue(r.tokens, '--to-destination') ?? '');
      return ep === undefined ? [] : [ep];
    });
  const services: ServicePortRef[] = [];
  const seen = new Set<string>();
  for (const r of rules) {
    if (r.chain !== 'KUBE-SERVICES' || r.comment === undefined) continue;
    const m = CLUSTER_IP_COMMENT.exec(r.comment);
    if (m === null) continue;
    const noEndpoints = m[4] === 'has no endpoints';
    if (noEndpoints ? r.table !== 'filter' : r.table !== 'nat') continue;
    const clusterIP = stripPrefix(optionValue(r.tokens, '-d') ?? '');
    const dport = optionValue(r.tokens, '--dport');
    const port = dport !== undefined && /^\d{1,5}$/.test(dport) ? Number(dport) : undefined;
    const proto = optionValue(r.tokens, '-p');
    const key = `${m[1]}/${m[2]}:${m[3] ?? ''}@${clusterIP ?? ''}:${port ?? ''}/${proto ?? ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const endpoints: { addr: string; port: number }[] = [];
    if (!noEndpoints && r.target !== undefined && r.target.startsWith('KUBE-SVC-')) {
      for (const j of byChain.get(r.target) ?? []) {
        // A loop, not push(...): spreading a huge array overflows the call stack.
        if (j.target !== undefined && j.target.startsWith('KUBE-SEP-'))
          for (const ep of dnatOf(j.target)) endpoints.push(ep);
      }
    }
    services.push({
      namespace: m[1]!,
      name: m[2]!,
      portName: m[3] ?? '',
      ...(clusterIP !== undefined ? { clusterIP } : {}),
      ...(port !== undefined ? { port } : {}),
      ...(proto !== undefined ? { proto } : {}),
      endpoints,
    });
  }
  return services;
}

/** Parses iptables-save (optionally -c) output into rules, INVALID drop rules and Service ports. */
export function parseIptablesSave(text: string): ParseResult<IptablesRuleset> {
  const issues: ParseIssue[] = [];
  const rules: Parsed[] = [];
  const chains = Object.create(null) as Record<string, string[]>;
  // chains[table].includes() per rule was quadratic in the number of chains.
  const declared = new Map<string, Set<string>>();
  let table: string | undefined;
  let tableLine = 0;
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!.replace(/\r$/, '');
    const issue = (code: string, message: string): void => {
      issues.push({ line: n + 1, code, message, text: clip(line) });
    };
    if (line.trim() === '' || line.startsWith('#')) continue;
    if (line.length > MAX_LINE) {
      issue('iptables.line-too-long', `line longer than ${MAX_LINE} characters`);
      continue;
    }
    if (line.startsWith('*')) {
      if (table !== undefined) {
        issues.push({
          line: tableLine,
          code: 'iptables.missing-commit',
          message: `table ${table} has no COMMIT`,
        });
      }
      const name = line.slice(1).trim();
      if (!/^[a-z_]{1,32}$/.test(name)) {
        issue('iptables.bad-table', `bad table name ${name.slice(0, 40)}`);
        table = undefined;
        continue;
      }
      table = name;
      tableLine = n + 1;
      chains[table] ??= [];
      if (!declared.has(table)) declared.set(table, new Set());
      continue;
    }
    if (line === 'COMMIT') {
      if (table === undefined) issue('iptables.stray-commit', 'COMMIT outside a table');
      table = undefined;
      continue;
    }
    if (table === undefined) {
      issue('iptables.outside-table', 'line outside a *table … COMMIT block');
      continue;
    }
    if (line.startsWith(':')) {
      const m = /^:(\S{1,64}) (\S{1,16})(?: \[(\d{1,20}):(\d{1,20})\])?$/.exec(line);
      if (m === null) issue('iptables.bad-chain', 'expected ":CHAIN POLICY [packets:bytes]"');
      else {
        chains[table]!.push(m[1]!);
        declared.get(table)!.add(m[1]!);
      }
      continue;
    }
    let rest = line;
    let packets: number | undefined;
    let bytes: number | undefined;
    if (rest.startsWith('[')) {
      const m = /^\[(\d{1,20}):(\d{1,20})\] /.exec(rest);
      if (m === null) {
        issue('iptables.bad-counter', 'expected "[packets:bytes] -A …"');
        continue;
      }
      packets = Number(m[1]);
      bytes = Number(m[2]);
      rest = rest.slice(m[0].length);
    }
    if (!rest.startsWith('-A ')) {
      issue('iptables.bad-line', 'expected "-A CHAIN …", ":CHAIN …", "*table" or COMMIT');
      continue;
    }
    const afterA = rest.slice(3);
    const sp = afterA.indexOf(' ');
    const chain = sp < 0 ? afterA : afterA.slice(0, sp);
    const spec = sp < 0 ? '' : afterA.slice(sp + 1);
    if (!CHAIN.test(chain)) {
      issue('iptables.bad-chain', `bad chain name ${chain.slice(0, 40)}`);
      continue;
    }
    const tok = tokenizeIptablesRule(spec);
    if (!tok.ok) {
      issue('iptables.bad-quote', tok.message);
      continue;
    }
    if (!declared.get(table)!.has(chain))
      issue('iptables.undeclared-chain', `chain ${chain} is not declared in table ${table}`);
    const target = optionValue(tok.tokens, '-j') ?? optionValue(tok.tokens, '-g');
    const comment = optionValue(tok.tokens, '--comment');
    rules.push({
      table,
      chain,
      spec,
      ...(target !== undefined ? { target } : {}),
      ...(comment !== undefined ? { comment } : {}),
      ...(packets !== undefined ? { packets, bytes } : {}),
      line: n + 1,
      tokens: tok.tokens,
    });
  }
  if (table !== undefined)
    issues.push({
      line: tableLine,
      code: 'iptables.missing-commit',
      message: `table ${table} has no COMMIT`,
    });

  const invalidDropRules: InvalidDropRule[] = [];
  let jumps: Map<string, string[]> | undefined;
  for (const r of rules) {
    if (r.target !== 'DROP' || !matchesInvalid(r.tokens)) continue;
    jumps ??= jumpIndex(rules);
    const hook = hooksOf(r.table, r.chain, jumps)[0];
    invalidDropRules.push({
      table: r.table,
      chain: r.chain,
      ...(hook !== undefined ? { hook } : {}),
      ...(r.packets !== undefined ? { packets: r.packets } : {}),
      line: r.line,
    });
  }
  const publicRules: IptablesRule[] = rules.map(({ tokens: _tokens, ...rule }) => rule);
  return {
    value: {
      rules: publicRules,
      chains,
      invalidDropRules,
      services: findServices(rules),
      kubeProxyChains: (chains.nat ?? []).includes('KUBE-SERVICES'),
    },
    issues,
  };
}
