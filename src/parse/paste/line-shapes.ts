// What one line of a pasted ticket looks like: a shell prompt with its command, a watch(1) header,
// a row or header of one of the tools kdiag reads, or prose. Shapes only: nothing here parses
// values, so a damaged row (`cp 6 …`) still lands in its section and its parser reports it.
// Every pattern is anchored and free of nested quantifiers: lines come from untrusted pastes.

/** Section kinds, named after the bundle file the section would be (record/bundle-reader.ts). */
export type PasteKind =
  | 'conntrack-L.txt'
  | 'conntrack-E.txt'
  | 'nf_conntrack.txt'
  | 'conntrack-S.txt'
  | 'stat_nf_conntrack.txt'
  | 'ss.txt'
  | 'ipvsadm-Ln.txt'
  | 'ipvsadm-Lnc.txt'
  | 'ipvsadm-timeout.txt'
  | 'ipvsadm-stats.txt'
  | 'ip_vs_conn.txt'
  | 'sysctl.txt'
  | 'iptables-save.txt'
  | 'ip6tables-save.txt'
  | 'nft-ruleset.txt'
  | 'kube-proxy.yaml'
  | 'kube-proxy.args';

/**
 * A line's shape. `row` lines are what the section counts; `head` lines belong to a section without
 * being counted (headers, titles, info lines, the conntrack summary); `start` lines open a new
 * section of their kind even right after another one (a second `ipvsadm -Ln` title).
 */
export type Shape =
  | { readonly t: 'blank' }
  | { readonly t: 'fence' }
  | { readonly t: 'prompt'; readonly command: string }
  | {
      readonly t: 'data';
      readonly kinds: readonly PasteKind[];
      readonly role: 'row' | 'head' | 'start';
    }
  | { readonly t: 'prose' };

const BLANK: Shape = { t: 'blank' };
const FENCE: Shape = { t: 'fence' };
const PROSE: Shape = { t: 'prose' };

function data(kinds: readonly PasteKind[], role: 'row' | 'head' | 'start'): Shape {
  return { t: 'data', kinds, role };
}

const CT_L: readonly PasteKind[] = ['conntrack-L.txt', 'nf_conntrack.txt'];
const CT_ANY: readonly PasteKind[] = ['conntrack-L.txt', 'nf_conntrack.txt', 'conntrack-E.txt'];
const IPVS_LIST: readonly PasteKind[] = ['ipvsadm-Ln.txt', 'ipvsadm-stats.txt'];
const IPT: readonly PasteKind[] = ['iptables-save.txt', 'ip6tables-save.txt'];

// user@host:dir# cmd, [user@host dir]$ cmd, and bare `$ cmd` / `# cmd` / `% cmd` / `> cmd` prompts.
const PROMPT_USER = /^[\w.-]{1,64}@[\w.-]{1,253}:[^#$\s]{0,200}[#$] ?(.*)$/;
const PROMPT_BRACKET = /^\[[^\]]{1,256}\][#$] ?(.*)$/;
const PROMPT_BARE = /^\$ (.+)$/;
// `# cmd` is also an iptables-save comment, `> text` a mail quote: only a known command word after
// them makes them a prompt.
const PROMPT_OTHER =
  /^[#%>] ((?:sudo |watch |time |nsenter |kubectl |ip netns exec )?[a-z][\w.-]{0,40})(\s.*)?$/;
const HASH_COMMANDS = new Set([
  'conntrack',
  'ipvsadm',
  'ss',
  'sysctl',
  'iptables-save',
  'ip6tables-save',
  'iptables',
  'ip6tables',
  'nft',
  'cat',
  'grep',
  'watch',
  'nsenter',
  'kubectl',
  'sudo',
  'ps',
  'tr',
  'crictl',
  'ip',
  'date',
  'uname',
  'dmesg',
  'journalctl',
  'head',
  'tail',
  'less',
  'for',
  'while',
]);
// watch(1): "Every 2.0s: ipvsadm -Lnc          worker-9: Wed Jun 24 19:48:36 2026"
const WATCH_HEADER = /^Every \d{1,6}(?:\.\d{1,3})?s: (.{1,300}?) {2,200}\S{1,253}: .{0,80}$/;

const CT_ENTRY = /^(?:ipv[46] +\d{1,3} +)?\S{1,16} +\d{1,3} /;
const CT_EVENT = /^(?:\[[^\]\t]{0,40}\]\s{0,8})? {0,4}\[(?:NEW|UPDATE|DESTROY)\] /;
const CT_SUMMARY = /^(?:\^C)?conntrack v[\d.]{1,20} \(conntrack-tools\): /;
const CT_STATS_CPU = /^cpu=\d{1,5}\s+\w{1,20}=\d/;
// conntrack-tools ≤1.4.4 display_proc_conntrack_stats: "%-10s\t\t%-8u"
const CT_STATS_OLD =
  /^(?:entries|searched|found|new|invalid|ignore|delete|delete_list|insert|insert_failed|drop|early_drop|icmp_error|error|expect_new|expect_create|expect_delete|search_restart|clash_resolve|chaintoolong)\s+\d{1,20}\s*$/;
const PROC_STAT_HEADER = /^entries +(?:clashres +)?(?:searched +)?found /;
const PROC_STAT_ROW = /^[0-9a-f]{8} +[0-9a-f]{8} +[0-9a-f]{8} /;

const SS_HEADER = /^(?:Netid +)?State +Recv-Q +Send-Q /;
const SS_ROW =
  /^(?:tcp +)?(?:ESTAB|SYN-SENT|SYN-RECV|FIN-WAIT-1|FIN-WAIT-2|TIME-WAIT|CLOSE|CLOSE-WAIT|LAST-ACK|LISTEN|CLOSING|UNCONN|UNKNOWN) +\d{1,12} +\d{1,12} +\S/;
const SS_INFO = /^(?:\t| {1,8}(?:ts |sack |cubic|bbr|reno|wscale:|rto:|skmem:))/;

const IPVS_TITLE = /^IP Virtual Server version /;
const IPVS_SVC_HEADER = /^Prot LocalAddress:Port +Scheduler/;
const IPVS_STATS_HEADER = /^Prot LocalAddress:Port +(?:Conns|CPS) /;
const IPVS_RS_HEADER = /^ {2}-> RemoteAddress:Port/;
const IPVS_SERVICE = /^(?:TCP|UDP|SCTP) {2}\S{1,64}:\d{1,5} +[a-z]{1,8}(?: |$)/;
const IPVS_FWM = /^FWM {2}\d{1,10} +[a-z]{1,8}/;
const IPVS_STATS_ROW = /^(?:TCP|UDP|SCTP|FWM) {2}\S{1,64} +\d{1,20}[KMGT]? +\d/;
const IPVS_REAL = /^ {2}-> \S{1,64}:\d{1,5} +(?:Masq|Local|Tunnel|Route) /;
const IPVS_REAL_STATS = /^ {2}-> \S{1,64}:\d{1,5} +\d{1,20}[KMGT]? +\d/;
const IPVS_CONN_TITLE = /^IPVS connection entries/;
const IPVS_CONN_HEADER = /^pro +expire +state +source /;
const IPVS_CONN = /^(?:TCP|UDP|SCTP) +\d{1,5}:\d\d +[A-Z_]{2,12} +\S{1,64}:\d{1,5} /;
const IPVS_TIMEOUT = /^Timeout \(tcp tcpfin udp\): /;
const IP_VS_CONN_HEADER = /^Pro +FromIP +FPrt /;
const IP_VS_CONN_ROW = /^(?:TCP|UDP|SCTP) +[0-9A-F]{8,32} +[0-9A-F]{4} /;

const SYSCTL = /^[a-z][\w-]{0,64}(?:\.[\w@:+/-]{1,64}){1,10} = /;
const SYSCTL_MSG = /^sysctl: (?:permission denied on key|cannot stat|reading key)/;

const IPT_GENERATED = /^# Generated by (ip6?)tables-save v/;
const IPT_TABLE = /^\*(?:filter|nat|mangle|raw|security)$/;
const IPT_CHAIN = /^:[\w-]{1,64} \S{1,16} \[\d{1,20}:\d{1,20}\]$/;
const IPT_LINE = /^(?:-A |-I |COMMIT$|# Completed on )/;

const NFT_TABLE = /^table (?:ip|ip6|inet|arp|bridge|netdev) \S{1,64} \{$/;
const YAML_START = /^(?:apiVersion: kubeproxy\.config\.k8s\.io\/|kind: KubeProxyConfiguration$)/;
const YAML_LINE = /^(?: {0,40}[A-Za-z_][\w.-]{0,80}:(?: .{0,4000})?| {0,40}- .{0,4000})$/;
const ARGS_BINARY = /^(?:\S{0,200}\/)?kube-proxy(?: --\S.{0,8000})?$/;
const ARGS_FLAG = /^--[a-z][\w-]{0,80}(?:=.{0,4000})?$/;

/** The command of a prompt or watch header line, or undefined. */
export function promptCommand(line: string): string | undefined {
  let m = PROMPT_USER.exec(line) ?? PROMPT_BRACKET.exec(line);
  if (m !== null) return m[1]!.trim();
  m = WATCH_HEADER.exec(line);
  if (m !== null) return m[1]!.trim();
  m = PROMPT_BARE.exec(line);
  if (m !== null) return m[1]!.trim();
  m = PROMPT_OTHER.exec(line);
  if (m !== null) {
    const words = m[1]!.split(' ');
    const word = words[words.length - 1]!;
    if (HASH_COMMANDS.has(word) || HASH_COMMANDS.has(words[0]!)) return line.slice(2).trim();
  }
  return undefined;
}

/** Shapes of a line that only continues an open section of that kind. */
export function continues(kind: PasteKind, line: string): 'row' | 'head' | undefined {
  switch (kind) {
    case 'kube-proxy.yaml':
      return YAML_LINE.test(line) ? 'row' : undefined;
    case 'kube-proxy.args':
      return ARGS_FLAG.test(line) ? 'row' : undefined;
    case 'ss.txt':
      return SS_INFO.test(line) ? 'head' : undefined;
    case 'conntrack-L.txt':
    case 'nf_conntrack.txt':
    case 'conntrack-E.txt':
      // a damaged entry (first letters lost, cut short) is still an entry for the parser to reject
      return line.includes('src=') ? 'row' : undefined;
    case 'iptables-save.txt':
    case 'ip6tables-save.txt':
      return /^(?:#|:|\*|-[AIN] |COMMIT)/.test(line) ? 'head' : undefined;
    default:
      return undefined;
  }
}

/** Classifies one line (CR and time column already removed). */
export function shapeOf(line: string): Shape {
  if (line.trim() === '') return BLANK;
  if (/^ {0,3}(?:```|~~~)/.test(line)) return FENCE;
  const first = line.charCodeAt(0);
  // Tool rows first: `# Generated by iptables-save` must not be taken for a root prompt.
  if (first === 35 /* # */) {
    if (IPT_GENERATED.test(line))
      return data(
        line.startsWith('# Generated by ip6') ? ['ip6tables-save.txt'] : ['iptables-save.txt'],
        'start',
      );
    if (line.startsWith('# Completed on ')) return data(IPT, 'head');
  }
  const command = promptCommand(line);
  if (command !== undefined) return { t: 'prompt', command };
  if (CT_EVENT.test(line)) return data(['conntrack-E.txt'], 'row');
  if (CT_SUMMARY.test(line)) return data(CT_ANY, 'head');
  if (CT_STATS_CPU.test(line)) return data(['conntrack-S.txt'], 'row');
  if (PROC_STAT_HEADER.test(line)) return data(['stat_nf_conntrack.txt'], 'start');
  if (PROC_STAT_ROW.test(line)) return data(['stat_nf_conntrack.txt'], 'row');
  if (CT_STATS_OLD.test(line)) return data(['conntrack-S.txt'], 'row');
  if (line.includes(' src=') && CT_ENTRY.test(line)) return data(CT_L, 'row');
  if (SS_HEADER.test(line)) return data(['ss.txt'], 'start');
  if (SS_ROW.test(line)) return data(['ss.txt'], 'row');
  if (IPVS_TITLE.test(line)) return data(IPVS_LIST, 'start');
  if (IPVS_STATS_HEADER.test(line)) return data(['ipvsadm-stats.txt'], 'head');
  if (IPVS_SVC_HEADER.test(line)) return data(['ipvsadm-Ln.txt'], 'head');
  if (IPVS_RS_HEADER.test(line)) return data(IPVS_LIST, 'head');
  if (IPVS_REAL.test(line)) return data(['ipvsadm-Ln.txt'], 'head');
  if (IPVS_REAL_STATS.test(line)) return data(['ipvsadm-stats.txt'], 'head');
  if (IPVS_STATS_ROW.test(line)) return data(['ipvsadm-stats.txt'], 'row');
  if (IPVS_SERVICE.test(line) || IPVS_FWM.test(line)) return data(['ipvsadm-Ln.txt'], 'row');
  if (IPVS_CONN_TITLE.test(line)) return data(['ipvsadm-Lnc.txt'], 'start');
  if (IPVS_CONN_HEADER.test(line)) return data(['ipvsadm-Lnc.txt'], 'head');
  if (IPVS_CONN.test(line)) return data(['ipvsadm-Lnc.txt'], 'row');
  if (IPVS_TIMEOUT.test(line)) return data(['ipvsadm-timeout.txt'], 'row');
  if (IP_VS_CONN_HEADER.test(line)) return data(['ip_vs_conn.txt'], 'start');
  if (IP_VS_CONN_ROW.test(line)) return data(['ip_vs_conn.txt'], 'row');
  if (SYSCTL.test(line) || SYSCTL_MSG.test(line)) return data(['sysctl.txt'], 'row');
  if (IPT_TABLE.test(line) || IPT_CHAIN.test(line)) return data(IPT, 'head');
  if (IPT_LINE.test(line)) return data(IPT, line.startsWith('-') ? 'row' : 'head');
  if (NFT_TABLE.test(line)) return data(['nft-ruleset.txt'], 'start');
  if (YAML_START.test(line)) return data(['kube-proxy.yaml'], 'start');
  if (ARGS_BINARY.test(line)) return data(['kube-proxy.args'], 'start');
  return PROSE;
}

/** The section kind a command names, when its output has one. */
export function kindOfCommand(command: string): PasteKind | undefined {
  // Only the last stage of a pipeline that is not a filter says what the output is.
  const stages = command.split('|').map((s) => s.trim());
  let main = stages[0] ?? '';
  for (const s of stages)
    if (!/^(?:grep|egrep|head|tail|less|more|ts|sort|tr|cut|awk|sed|column|tee)\b/.test(s))
      main = s;
  const words = main
    .split(/\s+/)
    .filter((w) => w !== 'sudo' && w !== 'watch' && !/^-n\d*$/.test(w));
  const at = words.findIndex((w) =>
    /(?:^|\/)(?:conntrack|ipvsadm|ss|sysctl|iptables-save|ip6tables-save|nft|cat|kube-proxy|ps)$/.test(
      w,
    ),
  );
  if (at < 0) return undefined;
  const tool = words[at]!.replace(/^.*\//, '');
  const rest = words.slice(at + 1).join(' ');
  switch (tool) {
    case 'conntrack':
      if (/(?:^| )(?:-E|--event)\b/.test(rest)) return 'conntrack-E.txt';
      if (/(?:^| )(?:-S|--stats)\b/.test(rest)) return 'conntrack-S.txt';
      if (/(?:^| )(?:-L|--dump)\b/.test(rest)) return 'conntrack-L.txt';
      return undefined;
    case 'ipvsadm':
      if (/--timeout\b/.test(rest)) return 'ipvsadm-timeout.txt';
      if (/--stats\b|--rate\b/.test(rest)) return 'ipvsadm-stats.txt';
      if (/(?:^| )-[A-Za-z]*c|--connection\b/.test(rest)) return 'ipvsadm-Lnc.txt';
      return 'ipvsadm-Ln.txt';
    case 'ss':
      return 'ss.txt';
    case 'sysctl':
      return 'sysctl.txt';
    case 'iptables-save':
      return 'iptables-save.txt';
    case 'ip6tables-save':
      return 'ip6tables-save.txt';
    case 'nft':
      return /\blist\b/.test(rest) ? 'nft-ruleset.txt' : undefined;
    case 'cat':
      if (/\/proc\/net\/nf_conntrack\b/.test(rest)) return 'nf_conntrack.txt';
      if (/\/proc\/net\/stat\/nf_conntrack\b/.test(rest)) return 'stat_nf_conntrack.txt';
      if (/\/proc\/net\/ip_vs_conn\b/.test(rest)) return 'ip_vs_conn.txt';
      if (/\/proc\/sys\//.test(rest)) return 'sysctl.txt';
      if (/\/proc\/.{1,80}?\/cmdline\b/.test(rest)) return 'kube-proxy.args';
      if (/kube-proxy/.test(rest)) return 'kube-proxy.yaml';
      return undefined;
    case 'ps':
    case 'kube-proxy':
      return /kube-proxy/.test(words.join(' ')) ? 'kube-proxy.args' : undefined;
    default:
      return undefined;
  }
}

/** The network namespace a command ran in (`nsenter -t PID -n`, `ip netns exec NAME`, `kubectl exec POD`). */
export function scopeOfCommand(command: string): string | undefined {
  const words = command.split(/\s+/).slice(0, 64);
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w.endsWith('nsenter')) {
      for (let j = i + 1; j < words.length; j++) {
        const m = /^(?:-t|--target)=?(\d{1,10})?$/.exec(words[j]!);
        if (m !== null) return `pid ${m[1] ?? words[j + 1] ?? '?'}`;
      }
    }
    if (w === 'netns' && words[i + 1] === 'exec' && words[i + 2] !== undefined)
      return `netns ${words[i + 2]}`;
    if (w === 'exec' && words.slice(0, i).some((x) => x.endsWith('kubectl'))) {
      // kubectl exec [-it] [-n NS] [-c C] POD -- cmd
      for (let j = i + 1; j < words.length && words[j] !== '--'; j++) {
        const x = words[j]!;
        if (x === '-n' || x === '-c' || x === '--namespace' || x === '--container') j++;
        else if (!x.startsWith('-')) return `pod ${x}`;
      }
    }
  }
  return undefined;
}

/** For `cat /proc/sys/a/b`, the dotted key the bare value belongs to. */
export function procSysKey(command: string): string | undefined {
  const m = /(?:^|\s)\/proc\/sys\/([\w./-]{1,255})(?:\s|$)/.exec(command);
  return m === null ? undefined : m[1]!.replace(/\//g, '.');
}
