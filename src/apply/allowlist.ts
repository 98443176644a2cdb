// The only settings `kdiag apply` may change, with the values each accepts. Pure: no IO.
// Anything not listed here is refused, whatever a suggestion or `--change` asks for.
import { UsageError } from '../errors.js';

/** Where a key may be written. `init-only` keys are global and read-only (0444) outside the init netns. */
export type KeyScope = 'any-netns' | 'init-only';

export interface AllowedSysctl {
  readonly key: string;
  readonly min: number;
  readonly max: number;
  /** 0/1 switch rather than a number. */
  readonly boolean: boolean;
  readonly scope: KeyScope;
  /** Kernel module that registers the key, for the hint when it is missing. */
  readonly module: 'nf_conntrack' | 'ip_vs' | 'tcp';
}

// Conntrack timeouts are proc_dointvec_jiffies: seconds up to INT_MAX/HZ (2147483 at HZ=1000).
// 0 would make the kernel forget every flow at once, so the floor is 1.
const JIFFIES_MAX = 2_147_483;
// TCP_KEEPIDLE / TCP_KEEPINTVL cap at 32767 s and TCP_KEEPCNT at 127 (include/net/tcp.h); the
// sysctls are not capped by the kernel, but a value a socket could not hold is a typo.
const conntrackTimeout = (name: string): AllowedSysctl => ({
  key: `net.netfilter.${name}`,
  min: 1,
  max: JIFFIES_MAX,
  boolean: false,
  scope: 'any-netns',
  module: 'nf_conntrack',
});
const flag = (key: string, module: AllowedSysctl['module']): AllowedSysctl => ({
  key,
  min: 0,
  max: 1,
  boolean: true,
  scope: 'any-netns',
  module,
});

const SYSCTLS: readonly AllowedSysctl[] = [
  conntrackTimeout('nf_conntrack_tcp_timeout_established'),
  conntrackTimeout('nf_conntrack_tcp_timeout_close_wait'),
  conntrackTimeout('nf_conntrack_tcp_timeout_fin_wait'),
  conntrackTimeout('nf_conntrack_tcp_timeout_time_wait'),
  conntrackTimeout('nf_conntrack_tcp_timeout_unacknowledged'),
  conntrackTimeout('nf_conntrack_tcp_timeout_max_retrans'),
  conntrackTimeout('nf_conntrack_udp_timeout'),
  conntrackTimeout('nf_conntrack_udp_timeout_stream'),
  // proc_dou8vec_minmax: a retransmit count, 0..255.
  {
    key: 'net.netfilter.nf_conntrack_tcp_max_retrans',
    min: 0,
    max: 255,
    boolean: false,
    scope: 'any-netns',
    module: 'nf_conntrack',
  },
  flag('net.netfilter.nf_conntrack_tcp_be_liberal', 'nf_conntrack'),
  flag('net.netfilter.nf_conntrack_tcp_loose', 'nf_conntrack'),
  flag('net.netfilter.nf_conntrack_tcp_ignore_invalid_rst', 'nf_conntrack'),
  // 0 would mean "no limit"; kdiag never suggests that.
  {
    key: 'net.netfilter.nf_conntrack_max',
    min: 1,
    max: 2_147_483_647,
    boolean: false,
    scope: 'init-only',
    module: 'nf_conntrack',
  },
  {
    key: 'net.ipv4.tcp_keepalive_time',
    min: 1,
    max: 32_767,
    boolean: false,
    scope: 'any-netns',
    module: 'tcp',
  },
  {
    key: 'net.ipv4.tcp_keepalive_intvl',
    min: 1,
    max: 32_767,
    boolean: false,
    scope: 'any-netns',
    module: 'tcp',
  },
  {
    key: 'net.ipv4.tcp_keepalive_probes',
    min: 1,
    max: 127,
    boolean: false,
    scope: 'any-netns',
    module: 'tcp',
  },
  flag('net.ipv4.vs.sloppy_tcp', 'ip_vs'),
  // Documentation/networking/ipvs-sysctl.rst: a bitmap, bit 1 = TIME_WAIT reuse, bit 2 = FIN_WAIT too.
  {
    key: 'net.ipv4.vs.conn_reuse_mode',
    min: 0,
    max: 3,
    boolean: false,
    scope: 'any-netns',
    module: 'ip_vs',
  },
  flag('net.ipv4.vs.expire_nodest_conn', 'ip_vs'),
];

const BY_KEY: ReadonlyMap<string, AllowedSysctl> = new Map(SYSCTLS.map((s) => [s.key, s]));

/** The allowlisted sysctl keys, in a stable order (for help text and errors). */
export function allowedSysctlKeys(): readonly string[] {
  return SYSCTLS.map((s) => s.key);
}

/** `net/ipv4/tcp_keepalive_time` and surrounding blanks are accepted; the canonical form uses dots. */
export function normalizeSysctlKey(key: string): string {
  return key.trim().replaceAll('/', '.');
}

/** The allowlist entry for a key, or undefined. */
export function findAllowedSysctl(key: string): AllowedSysctl | undefined {
  return BY_KEY.get(normalizeSysctlKey(key));
}

const INTEGER = /^[0-9]{1,10}$/;

function parseBounded(
  what: string,
  raw: string,
  min: number,
  max: number,
  isBool: boolean,
): number {
  const text = raw.trim();
  if (!INTEGER.test(text)) {
    throw new UsageError(
      `${what}: "${raw.slice(0, 40)}" is not ${isBool ? '0 or 1' : 'a whole number'}`,
    );
  }
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(
      `${what}: ${text} is out of range (${isBool ? '0 or 1' : `${min}..${max}`})`,
    );
  }
  return n;
}

/** Checks a sysctl key and value against the allowlist; returns the canonical key and value or throws a one-line UsageError. */
export function checkSysctl(
  key: string,
  value: string,
): { readonly allowed: AllowedSysctl; readonly key: string; readonly value: string } {
  const canonical = normalizeSysctlKey(key);
  const allowed = BY_KEY.get(canonical);
  if (allowed === undefined) {
    throw new UsageError(
      `can't change ${canonical.slice(0, 100) || '(empty key)'}: not on kdiag's allowlist`,
      'kdiag applies only the conntrack, keepalive and IPVS settings its suggestions name',
    );
  }
  const n = parseBounded(allowed.key, value, allowed.min, allowed.max, allowed.boolean);
  return { allowed, key: allowed.key, value: String(n) };
}

export interface IpvsTimeouts {
  readonly tcp: number;
  readonly tcpfin: number;
  readonly udp: number;
}

// ip_vs_set_timeout rejects values above INT_MAX/HZ; 0 means "keep the current value".
const IPVS_MAX = 2_147_483;

/** Checks `ipvsadm --set tcp tcpfin udp` values (0 = keep); at least one must be set. */
export function checkIpvsTimeouts(t: {
  tcp: number | string;
  tcpfin: number | string;
  udp: number | string;
}): IpvsTimeouts {
  const tcp = parseBounded('ipvs tcp timeout', String(t.tcp), 0, IPVS_MAX, false);
  const tcpfin = parseBounded('ipvs tcpfin timeout', String(t.tcpfin), 0, IPVS_MAX, false);
  const udp = parseBounded('ipvs udp timeout', String(t.udp), 0, IPVS_MAX, false);
  if (tcp === 0 && tcpfin === 0 && udp === 0)
    throw new UsageError('ipvs timeouts: all three are 0 (keep), so there is nothing to change');
  return { tcp, tcpfin, udp };
}

// kube-proxy writes these once at its start (domain.md §4.3), so a restart may undo a live change.
const KUBE_PROXY_WRITES = new Set([
  'net.netfilter.nf_conntrack_max',
  'net.netfilter.nf_conntrack_tcp_timeout_established',
  'net.netfilter.nf_conntrack_tcp_timeout_close_wait',
  'net.netfilter.nf_conntrack_tcp_be_liberal',
  'net.netfilter.nf_conntrack_udp_timeout',
  'net.netfilter.nf_conntrack_udp_timeout_stream',
  'net.ipv4.vs.conn_reuse_mode',
  'net.ipv4.vs.expire_nodest_conn',
]);

/** Caveats to print after a change of `key` on the node. */
export function notesForSysctl(key: string, opts: { node: boolean; persisted: boolean }): string[] {
  const notes: string[] = [];
  if (opts.node && KUBE_PROXY_WRITES.has(key))
    notes.push(
      `kube-proxy sets ${key} when it starts: a kube-proxy restart may undo this; change its configuration too.`,
    );
  if (opts.persisted && key.startsWith('net.netfilter.'))
    notes.push(
      'At boot, sysctl.d sets net.netfilter keys only if nf_conntrack is already loaded (add it to /etc/modules-load.d).',
    );
  if (opts.persisted && key.startsWith('net.ipv4.vs.'))
    notes.push('At boot, sysctl.d sets net.ipv4.vs keys only if ip_vs is already loaded.');
  if (!opts.persisted && opts.node)
    notes.push('This lasts until reboot; --persist also writes it to /etc/sysctl.d.');
  return notes;
}
