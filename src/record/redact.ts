// kdiag collect --redact: replaces addresses and names in a bundle's files consistently, so one
// address (or pod, namespace, Service, host, netns) has one stand-in in every file — conntrack
// lines, ss, iptables/nft rules and comments, kube-proxy config, owners, file names — and flows
// still join. Stand-ins keep what the analysis depends on: loopback, link-local and wildcard
// addresses stay, private addresses stay private (10/8, fd00::/8), public ones stay public
// (198.18/15, 2001:db8::/32). The mapping is never written anywhere. Pure: the keyed hash is
// the caller's (a fresh random key per collect unless one is given, so stand-ins of several nodes
// agree when they share it).

/** A keyed 32-bit hash of a string (HMAC in the caller). */
export type KeyedHash = (s: string) => number;

// Namespaces every cluster has: naming them reveals nothing, and they occur as plain words.
const WELL_KNOWN = new Set(['default', 'kube-system', 'kube-public', 'kube-node-lease']);
// Names shorter than this are left alone: they would match parts of unrelated words.
const MIN_NAME = 4;

const V4 = /(?<![\d.])(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?!\.?\d)/g;
// Candidate IPv6 tokens (checked further in v6Parts): hex groups and colons, optional v4 tail.
const V6 =
  /(?<![\w:.])((?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?)(?![\w:.])/g;

function v4Class(a: number, b: number): 'keep' | 'private' | 'public' {
  if (a === 0 || a === 127 || a >= 224 || (a === 169 && b === 254)) return 'keep';
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return 'private';
  if (a === 100 && b >= 64 && b <= 127) return 'private';
  return 'public';
}

/** Whether a colon token is an IPv6 address worth replacing: `::` in it, or all 8 groups. */
function isV6(tok: string): boolean {
  if (!tok.includes('::') && tok.split(':').length !== 8) return false;
  if ((tok.match(/::/g) ?? []).length > 1) return false;
  return /[0-9A-Fa-f]/.test(tok);
}

export interface RedactNames {
  readonly hosts: readonly string[];
  readonly namespaces: readonly string[];
  readonly pods: readonly string[];
  readonly services: readonly string[];
  readonly netns: readonly string[];
}

/** The names to replace, read from the bundle's own files (owners, kube-proxy, rule comments). */
export function namesInBundle(files: ReadonlyMap<string, string>, hostname: string): RedactNames {
  const hosts = new Set<string>([hostname, hostname.split('.')[0]!]);
  const namespaces = new Set<string>();
  const pods = new Set<string>();
  const services = new Set<string>();
  const netns = new Set<string>();
  for (const line of (files.get('owners.ndjson') ?? '').split('\n')) {
    if (line.trim() === '') continue;
    try {
      const o = JSON.parse(line) as {
        type?: string;
        namespace?: unknown;
        name?: unknown;
        names?: unknown;
      };
      if (o.type === 'pod') {
        if (typeof o.namespace === 'string') namespaces.add(o.namespace);
        if (typeof o.name === 'string') pods.add(o.name);
      } else if (o.type === 'netns' && Array.isArray(o.names))
        for (const n of o.names) if (typeof n === 'string') netns.add(n);
    } catch {
      // A line owners did not write whole: nothing to learn from it.
    }
  }
  const args = files.get('kube-proxy.args') ?? '';
  for (const m of args.matchAll(/--hostname-override[= ](\S+)/g)) hosts.add(m[1]!);
  for (const m of (files.get('kube-proxy.yaml') ?? '').matchAll(/hostnameOverride:\s*"?([^"\s]+)/g))
    hosts.add(m[1]!);
  // kube-proxy's rule comments: "NAMESPACE/SERVICE:PORTNAME" (iptables) and the same in nft.
  for (const f of ['iptables-save.txt', 'nft-ruleset.txt']) {
    for (const m of (files.get(f) ?? '').matchAll(
      /comment "?([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)/g,
    )) {
      namespaces.add(m[1]!);
      services.add(m[3]!);
    }
  }
  const keep = (s: Set<string>): string[] =>
    [...s].filter((n) => n.length >= MIN_NAME && !WELL_KNOWN.has(n));
  return {
    hosts: keep(hosts),
    namespaces: keep(namespaces),
    pods: keep(pods),
    services: keep(services),
    netns: keep(netns),
  };
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Replaces addresses and names in text; one instance per bundle so stand-ins agree across files. */
export class Redactor {
  private readonly v4 = new Map<string, string>();
  private readonly v4Used = new Set<string>();
  private readonly v6 = new Map<string, string>();
  private readonly names = new Map<string, string>();
  private readonly nameRe: RegExp | undefined;

  constructor(
    private readonly hash: KeyedHash,
    names: RedactNames,
  ) {
    const add = (list: readonly string[], kind: string): void => {
      for (const n of list) {
        if (this.names.has(n)) continue;
        const h = (this.hash(`${kind}:${n}`) >>> 0).toString(16).padStart(8, '0').slice(0, 6);
        this.names.set(n, `${kind}-${h}`);
      }
    };
    add(names.hosts, 'node');
    add(names.namespaces, 'ns');
    add(names.pods, 'pod');
    add(names.services, 'svc');
    add(names.netns, 'netns');
    const all = [...this.names.keys()].sort((a, b) => b.length - a.length).map(escape);
    // `_` separates the parts of a pod label (pod_NS_NAME), so it is a boundary; `.` is one only
    // when no letter or digit follows (a sentence's end, not a longer host name).
    this.nameRe =
      all.length === 0
        ? undefined
        : new RegExp(`(?<![A-Za-z0-9.-])(${all.join('|')})(?![A-Za-z0-9-]|\\.[A-Za-z0-9])`, 'g');
  }

  /** How many distinct addresses and names were replaced so far. */
  get counts(): { addresses: number; names: number } {
    return { addresses: this.v4.size + this.v6.size, names: this.names.size };
  }

  private mapV4(a: number, b: number, c: number, d: number): string {
    const orig = `${a}.${b}.${c}.${d}`;
    const known = this.v4.get(orig);
    if (known !== undefined) return known;
    const cls = v4Class(a, b);
    if (cls === 'keep') return orig;
    for (let i = 0; ; i++) {
      // The step keeps probing new values even if the hash repeats itself.
      const h = (this.hash(`v4:${orig}:${i}`) + i * 2654435761) >>> 0;
      const x = (h >>> 16) & 0xff;
      const y = (h >>> 8) & 0xff;
      const z = h & 0xff;
      const out = cls === 'private' ? `10.${x}.${y}.${z}` : `198.${18 + (x & 1)}.${y}.${z}`;
      // Two addresses never share a stand-in (flows would join wrongly).
      if (!this.v4Used.has(out) && out !== orig) {
        this.v4.set(orig, out);
        this.v4Used.add(out);
        return out;
      }
    }
  }

  private mapV6(tok: string): string {
    const lower = tok.toLowerCase();
    if (lower === '::' || lower === '::1') return tok;
    const known = this.v6.get(lower);
    if (known !== undefined) return known;
    const prefix = /^fe[89ab]/.test(lower) ? 'fe80' : /^f[cd]/.test(lower) ? 'fd00' : '2001:db8';
    const used = new Set(this.v6.values());
    for (let i = 0; ; i++) {
      const h = (this.hash(`v6:${lower}:${i}`) + i * 2654435761) >>> 0;
      const out = `${prefix}::${(h >>> 16).toString(16)}:${(h & 0xffff).toString(16)}`;
      if (!used.has(out)) {
        this.v6.set(lower, out);
        return out;
      }
    }
  }

  /** `text` with every address and known name replaced by its stand-in. */
  text(text: string): string {
    // A v6 token with a dotted v4 tail (::ffff:10.0.0.1) keeps its prefix: the v4 pass maps the tail.
    let out = text.replace(V6, (tok: string) =>
      isV6(tok) && !tok.includes('.') ? this.mapV6(tok) : tok,
    );
    out = out.replace(V4, (m, a: string, b: string, c: string, d: string) => {
      const n = [+a, +b, +c, +d];
      return n.every((x) => x <= 255) ? this.mapV4(n[0]!, n[1]!, n[2]!, n[3]!) : m;
    });
    if (this.nameRe) out = out.replace(this.nameRe, (n: string) => this.names.get(n) ?? n);
    return out;
  }

  /**
   * /proc/net/ip_vs_conn prints IPv4 addresses as 8 hex digits (%08X of the host-order address):
   * each is mapped like the dotted address, so IPVS entries still join the other tables.
   */
  hexV4Text(text: string): string {
    return this.text(text).replace(
      /(?<![0-9A-Fa-f])([0-9A-F]{8})(?![0-9A-Fa-f])/g,
      (hex: string) => {
        const n = Number.parseInt(hex, 16);
        const parts = [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255] as const;
        const mapped = this.mapV4(...parts)
          .split('.')
          .map(Number);
        const back =
          ((mapped[0]! << 24) | (mapped[1]! << 16) | (mapped[2]! << 8) | mapped[3]!) >>> 0;
        return back.toString(16).toUpperCase().padStart(8, '0');
      },
    );
  }

  /** A bundle file name with the scope after `@` redacted (`ss@pod_shop_web-0.txt`). */
  fileName(name: string): string {
    const at = name.indexOf('@');
    const dot = name.lastIndexOf('.');
    if (at < 0 || dot < at) return name;
    return `${name.slice(0, at + 1)}${this.text(name.slice(at + 1, dot))}${name.slice(dot)}`;
  }
}

/** Every file of a bundle redacted with one Redactor: new names and contents. */
export function redactFiles(
  files: ReadonlyMap<string, string>,
  hostname: string,
  hash: KeyedHash,
): { files: Map<string, string>; redactor: Redactor } {
  const redactor = new Redactor(hash, namesInBundle(files, hostname));
  const out = new Map<string, string>();
  for (const [name, text] of files)
    out.set(
      redactor.fileName(name),
      name === 'ip_vs_conn.txt' ? redactor.hexV4Text(text) : redactor.text(text),
    );
  return { files: out, redactor };
}
