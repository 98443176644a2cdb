// `nft list ruleset`: tables, their chains, maps and sets, each chain's rules, reduced to the facts
// iptables-save gives kdiag (model/iptables.ts): kube-proxy's nftables mode (table `kube-proxy`,
// kubernetes pkg/proxy/nftables/proxier.go), its Services with their endpoints, and the rules that
// drop conntrack-invalid packets. A rule or map element that wraps over lines (an open `{`) is
// joined before it is read.
import type {
  InvalidDropRule,
  IptablesRule,
  IptablesRuleset,
  ServicePortRef,
} from '../model/iptables.js';
import { parseIpvsEndpoint } from './ipvsadm-services.js';
import { withoutLeadingNoise } from './paste-noise.js';
import { clip, type ParseIssue, type ParseResult } from './result.js';

const MAX_LINE = 65536;
const MAX_JOINED = 1 << 20;

export interface NftTable {
  readonly family: string;
  readonly name: string;
  readonly chains: readonly string[];
  readonly maps: readonly string[];
  readonly sets: readonly string[];
}

/** The ruleset as iptables-save's facts, plus its tables. */
export interface NftRuleset extends IptablesRuleset {
  readonly tables: readonly NftTable[];
}

const TABLE = /^table (ip|ip6|inet|arp|bridge|netdev) (\S{1,256}) \{$/;
const BLOCK = /^(chain|map|set|flowtable) (\S{1,512}) \{$/;
const HOOK = /^type \w{1,16} hook (\w{1,16}) /;
const INVALID = /(?:^|\s)ct state (?:invalid|\{[^}]{0,200}\binvalid\b[^}]{0,200}\})(?:\s|$)/;
const COUNTER = /\bcounter packets (\d{1,20}) bytes (\d{1,20})/;
// proxier.go: servicePortChainName = "service-" + hash + "-" + ns/name/proto/port,
// servicePortEndpointChainName = "endpoint-" + hash + "-" + ns/name/proto/port + "__" + ip/port.
const SERVICE_CHAIN =
  /^service-[A-Z0-9]{8}-([^/\s]{1,253})\/([^/\s]{1,253})\/(tcp|udp|sctp)\/(\S{0,253})$/;
const SERVICE_IP = /(\S{1,45}) \. (tcp|udp|sctp) \. (\d{1,5}) : goto (service-\S{1,1024})/g;
const ENDPOINT_GOTO = /goto (endpoint-[^\s,}]{1,1024})/g;
const DNAT = /\bdnat (?:ip6? )?to (\S{1,64})/;

interface Block {
  kind: 'chain' | 'map' | 'set' | 'flowtable';
  name: string;
  hook?: string;
  lines: { text: string; line: number }[];
}

interface Draft {
  family: string;
  name: string;
  blocks: Block[];
}

/** Net `{` minus `}` of a line, quoted text left out (comments may hold braces). */
export function braceDelta(line: string): number {
  let d = 0;
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 34) quoted = !quoted;
    else if (!quoted && c === 123) d++;
    else if (!quoted && c === 125) d--;
  }
  return d;
}

/** What the rule's verdict is: the last verdict word and its chain (`jump X`, `goto X`, `drop`). */
function verdictOf(rule: string): string | undefined {
  const m =
    /(?:^|\s)(accept|drop|reject|return|masquerade|dnat|snat|jump \S+|goto \S+)(?:\s[^{}]*)?$/.exec(
      rule,
    );
  return m === null ? undefined : m[1];
}

/** Parses `nft list ruleset` output; lines it cannot place are issues, the rest is kept. */
export function parseNftRuleset(text: string): ParseResult<NftRuleset> {
  const issues: ParseIssue[] = [];
  const tables: Draft[] = [];
  let table: Draft | undefined;
  let block: Block | undefined;
  let pending: { text: string; line: number; depth: number } | undefined;
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    let raw = lines[n]!;
    if (raw.endsWith('\r')) raw = raw.slice(0, -1);
    const issue = (code: string, message: string): void => {
      issues.push({ line: n + 1, code, message, text: clip(raw) });
    };
    if (raw.length > MAX_LINE) {
      issue('nft.line-too-long', `line longer than ${MAX_LINE} characters`);
      continue;
    }
    const line = (withoutLeadingNoise(raw) ?? raw).trim();
    if (line === '' || line.startsWith('#')) continue;
    if (pending !== undefined) {
      pending.text = `${pending.text} ${line}`;
      pending.depth += braceDelta(line);
      if (pending.text.length > MAX_JOINED) {
        issue('nft.line-too-long', 'a wrapped statement longer than 1 MB');
        pending = undefined;
      } else if (pending.depth <= 0) {
        block!.lines.push({ text: pending.text, line: pending.line });
        pending = undefined;
      }
      continue;
    }
    if (table === undefined) {
      const m = TABLE.exec(line);
      if (m === null) issue('nft.bad-line', 'expected "table FAMILY NAME {"');
      else tables.push((table = { family: m[1]!, name: m[2]!, blocks: [] }));
      continue;
    }
    if (block === undefined) {
      if (line === '}') table = undefined;
      else {
        const m = BLOCK.exec(line);
        if (m !== null)
          table.blocks.push((block = { kind: m[1] as Block['kind'], name: m[2]!, lines: [] }));
        else if (!/^(?:comment|flags) /.test(line))
          issue('nft.bad-line', 'expected a chain, map, set or flowtable');
      }
      continue;
    }
    if (line === '}') {
      block = undefined;
      continue;
    }
    const hook = block.kind === 'chain' ? HOOK.exec(line) : null;
    if (hook !== null) {
      block.hook = hook[1]!;
      continue;
    }
    const depth = braceDelta(line);
    if (depth > 0) pending = { text: line, line: n + 1, depth };
    else block.lines.push({ text: line, line: n + 1 });
  }
  if (table !== undefined)
    issues.push({
      line: lines.length,
      code: 'nft.unclosed',
      message: `table ${table.name} has no closing }`,
    });
  return { value: ruleset(tables), issues };
}

function ruleset(drafts: readonly Draft[]): NftRuleset {
  const rules: IptablesRule[] = [];
  const invalidDropRules: InvalidDropRule[] = [];
  const chains: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
  const tables: NftTable[] = [];
  const services: ServicePortRef[] = [];
  let kubeProxy = false;
  for (const t of drafts) {
    const key = `${t.family} ${t.name}`;
    const chainNames = t.blocks.filter((b) => b.kind === 'chain').map((b) => b.name);
    chains[key] = chainNames;
    tables.push({
      family: t.family,
      name: t.name,
      chains: chainNames,
      maps: t.blocks.filter((b) => b.kind === 'map').map((b) => b.name),
      sets: t.blocks.filter((b) => b.kind === 'set').map((b) => b.name),
    });
    for (const b of t.blocks) {
      if (b.kind !== 'chain') continue;
      for (const r of b.lines) {
        if (r.text.startsWith('comment ') || r.text.startsWith('policy ')) continue;
        const target = verdictOf(r.text);
        const counter = COUNTER.exec(r.text);
        const packets = counter === null ? undefined : Number(counter[1]);
        rules.push({
          table: key,
          chain: b.name,
          spec: r.text,
          ...(target !== undefined ? { target } : {}),
          ...(packets !== undefined ? { packets, bytes: Number(counter![2]) } : {}),
          line: r.line,
        });
        if (target === 'drop' && INVALID.test(r.text)) {
          invalidDropRules.push({
            table: key,
            chain: b.name,
            ...(b.hook !== undefined ? { hook: b.hook.toUpperCase() } : {}),
            ...(packets !== undefined ? { packets } : {}),
            line: r.line,
          });
        }
      }
    }
    if (t.name === 'kube-proxy' && (t.family === 'ip' || t.family === 'ip6')) {
      kubeProxy = true;
      services.push(...kubeProxyServices(t));
    }
  }
  return {
    rules,
    chains,
    invalidDropRules,
    services,
    kubeProxyChains: false,
    kubeProxyNftables: kubeProxy,
    tables,
  };
}

/** kube-proxy's Services: the service-ips map's `IP . proto . port : goto service-…` elements. */
function kubeProxyServices(t: Draft): ServicePortRef[] {
  const byName = new Map(t.blocks.map((b) => [b.name, b]));
  const dnatOf = (chain: string): { addr: string; port: number }[] =>
    (byName.get(chain)?.lines ?? []).flatMap((r) => {
      const m = DNAT.exec(r.text);
      const ep = m === null ? undefined : parseIpvsEndpoint(m[1]!.replace(/,$/, ''));
      return ep === undefined ? [] : [ep];
    });
  const out: ServicePortRef[] = [];
  const map = byName.get('service-ips');
  for (const el of map?.lines ?? []) {
    for (const m of el.text.matchAll(SERVICE_IP)) {
      const chain = m[4]!.replace(/,$/, '');
      const name = SERVICE_CHAIN.exec(chain);
      if (name === null) continue;
      const endpoints: { addr: string; port: number }[] = [];
      for (const r of byName.get(chain)?.lines ?? []) {
        for (const g of r.text.matchAll(ENDPOINT_GOTO)) endpoints.push(...dnatOf(g[1]!));
      }
      out.push({
        namespace: name[1]!,
        name: name[2]!,
        portName: name[4]!,
        clusterIP: m[1]!,
        port: Number(m[3]),
        proto: m[2]!,
        endpoints,
      });
    }
  }
  return out;
}
