// The network-namespace lab: a kube-proxy-like node (iptables mode) between a client pod and two
// backend pods, all in `kdiag-lab-*` namespaces wired only to each other (see topology.ts for
// names, addresses and the exact ruleset; nothing has a default route, nothing reaches the host).
//
// Library API (used by `kdiag lab` and by end-to-end tests):
//
//   import { labUp, labDown, attachLab } from '../src/lab/lab.js';
//   import { runScenario, listScenarios } from '../src/lab/scenarios.js';
//
//   const lab = await labUp({ dropInvalid: false, onStep });   // cleans leftovers, builds everything
//   try {
//     const r = await runScenario('conntrack-expiry', {
//       lab,
//       onStep: (s) => console.log(s.message),                    // progress, past participle
//       onReady: async (lab) => { start a tracer on lab.ns.node }, // after setup, before traffic
//     });
//     r.outcome.client        // 'ECONNRESET' | 'ETIMEDOUT' | 'ok' | 'fin-lost' | …  (what the app saw)
//     r.outcome.server        // the backend's side, where the scenario looks at it
//     r.matched               // outcome equals r.expected
//     r.clientTuple, r.vip, r.backendBefore, r.backendAfter, r.fm ('FM-1'), r.notes
//     r.timestamps            // ms: start, ready, connected, idleStart, expiryExpected, actionAt,
//                             //     failureObserved, end
//     r.conntrackEvents       // raw `conntrack -E -o timestamp -p tcp` lines from lab.ns.node
//     r.conntrackStats        // `conntrack -S` summed over CPUs, before and after
//   } finally {
//     await lab.down();                                           // removes every kdiag-lab-* netns
//   }
//
//   runScenario(name) without `lab` brings one up and removes it afterwards (unless `keep`).
//   attachLab()   re-uses a lab that `kdiag lab up` left (undefined if none is up)
//   labDown()     removes every `kdiag-lab-*` namespace (and the processes inside), idempotent
//   lab.reset()   puts sysctls, endpoints, the DROP rule and the middlebox back to the baseline;
//                 runScenario calls it first, so scenarios can run one after another on one lab
//
// Namespace names and addresses are fixed so a second terminal can watch with
// `kdiag trace --netns kdiag-lab-node` while `kdiag lab run …` drives traffic; the expiry
// scenarios use a 5 s ESTABLISHED timeout and idle 7 s (EXPIRY_TIMEOUT_S / EXPIRY_IDLE_S).
// Requires root, iproute2, iptables (nf_tables backend is fine), conntrack-tools, procps (sysctl),
// util-linux (setpriv, dmesg) and, for out-of-window only, python3. The agent must be built (dist/).
import { EnvironmentError } from '../errors.js';
import { run, which } from '../host/exec.js';
import {
  ADDR,
  BACKENDS,
  CHAINS,
  DROP_INVALID_RULE,
  LAB_PREFIX,
  NS,
  kubeProxyRuleset,
  middleboxRuleset,
  svcChainRestore,
  type BackendName,
  V6,
} from './topology.js';
import { ADDR6 } from './topology-v6.js';
import { requireRoot } from '../host/root.js';

export { ADDR, CHAINS, NS } from './topology.js';

/** A progress step: `message` is one past-participle line for people. */
export interface LabStep {
  readonly t: number;
  readonly name: string;
  readonly message: string;
}

export type OnStep = (step: LabStep) => void;

export interface LabUpOptions {
  /** Install kube-proxy's `KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP` (default false). */
  readonly dropInvalid?: boolean;
  readonly onStep?: OnStep;
}

/** Kube-proxy's conntrack values (§4.3) and Linux keepalive defaults: what every scenario starts from. */
export const BASELINE_SYSCTLS: Record<string, Record<string, number>> = {
  [NS.node]: {
    'net.netfilter.nf_conntrack_tcp_timeout_established': 86400,
    'net.netfilter.nf_conntrack_tcp_timeout_close_wait': 3600,
    'net.netfilter.nf_conntrack_tcp_timeout_unacknowledged': 300,
    'net.netfilter.nf_conntrack_tcp_timeout_max_retrans': 300,
    'net.netfilter.nf_conntrack_tcp_loose': 1,
    'net.netfilter.nf_conntrack_tcp_be_liberal': 0,
  },
  [NS.client]: {
    'net.ipv4.tcp_keepalive_time': 7200,
    'net.ipv4.tcp_keepalive_intvl': 75,
    'net.ipv4.tcp_keepalive_probes': 9,
    'net.ipv4.tcp_retries2': 15,
    'net.ipv4.tcp_syn_retries': 6,
  },
};

/** A running lab. Every method runs tools through exec.ts with argument arrays. */
export class Lab {
  readonly ns = NS;
  readonly addr = ADDR;
  readonly chains = CHAINS;

  constructor(private readonly onStep: OnStep | undefined) {}

  /** Writes sysctls in one namespace (`sysctl -q -w k=v …`). */
  async sysctl(netns: string, values: Record<string, string | number>): Promise<void> {
    const kv = Object.entries(values).map(([k, v]) => `${k}=${v}`);
    if (kv.length > 0) await run(['sysctl', '-q', '-w', ...kv], { netns });
  }

  /** Reads one sysctl in a namespace. */
  async readSysctl(netns: string, key: string): Promise<string> {
    return (await run(['sysctl', '-n', key], { netns })).stdout.trim();
  }

  /** Puts kube-proxy's INVALID DROP rule first in KUBE-FORWARD (both families), or removes it. */
  async setDropInvalid(on: boolean): Promise<void> {
    for (const tool of ['iptables', 'ip6tables']) {
      const present =
        (
          await run([tool, '-C', 'KUBE-FORWARD', ...DROP_INVALID_RULE], {
            netns: NS.node,
            reject: false,
          })
        ).exitCode === 0;
      if (on && !present)
        await run([tool, '-I', 'KUBE-FORWARD', '1', ...DROP_INVALID_RULE], { netns: NS.node });
      if (!on && present)
        await run([tool, '-D', 'KUBE-FORWARD', ...DROP_INVALID_RULE], { netns: NS.node });
    }
  }

  /** Whether the INVALID DROP rule is installed. */
  async dropInvalid(): Promise<boolean> {
    return (
      (
        await run(['iptables', '-C', 'KUBE-FORWARD', ...DROP_INVALID_RULE], {
          netns: NS.node,
          reject: false,
        })
      ).exitCode === 0
    );
  }

  /** Rewrites the Service's KUBE-SVC chain to pick among these endpoints (atomic restore). */
  async setEndpoints(endpoints: readonly BackendName[]): Promise<void> {
    await run(['iptables-restore', '--noflush'], {
      netns: NS.node,
      input: svcChainRestore(endpoints),
    });
    await run(['ip6tables-restore', '--noflush'], {
      netns: NS.node,
      input: svcChainRestore(endpoints, V6),
    });
  }

  /** Turns the middlebox's idle-drop timer on (seconds) or off (undefined). */
  async setMiddleboxIdle(seconds: number | undefined): Promise<void> {
    await run(['iptables-restore'], { netns: NS.mbox, input: middleboxRuleset(seconds) });
  }

  /** `iptables-save -c` of a namespace (the node by default). */
  async iptablesSave(netns: string = NS.node): Promise<string> {
    return (await run(['iptables-save', '-c'], { netns })).stdout;
  }

  /** `conntrack -S` of the node, summed over CPUs. */
  async conntrackStats(): Promise<Record<string, number>> {
    const out = (await run(['conntrack', '-S'], { netns: NS.node })).stdout;
    const sum: Record<string, number> = {};
    for (const m of out.matchAll(/([a-z_]{1,24})=(\d{1,20})/g)) {
      if (m[1] === 'cpu') continue;
      sum[m[1]!] = (sum[m[1]!] ?? 0) + Number(m[2]);
    }
    return sum;
  }

  /** Puts every knob a scenario may touch back to the baseline, and empties the node's table. */
  async reset(opts: { dropInvalid: boolean }): Promise<void> {
    for (const [netns, values] of Object.entries(BASELINE_SYSCTLS))
      await this.sysctl(netns, values);
    await this.setEndpoints(['be1', 'be2']);
    await this.setDropInvalid(opts.dropInvalid);
    await this.setMiddleboxIdle(undefined);
    for (const be of Object.values(BACKENDS))
      await run(['iptables', '-F', 'INPUT'], { netns: be.ns, reject: false });
    for (const family of ['ipv4', 'ipv6'])
      await run(['conntrack', '-F', '-f', family], { netns: NS.node, reject: false });
  }

  /** Removes the lab (every `kdiag-lab-*` namespace). */
  async down(): Promise<void> {
    await labDown(this.onStep);
  }

  /** @internal */
  step(name: string, message: string): void {
    this.onStep?.({ t: Date.now(), name, message });
  }
}

const REQUIRED_TOOLS = [
  'ip',
  'iptables',
  'iptables-restore',
  'iptables-save',
  'ip6tables-restore',
  'conntrack',
  'sysctl',
  'setpriv',
] as const;

/** Throws an EnvironmentError when the lab cannot run here (not root, a tool missing). */
export async function checkLabEnvironment(): Promise<void> {
  requireRoot('build the lab', { hint: 'run it as root: sudo kdiag lab …' });
  for (const tool of REQUIRED_TOOLS) {
    if ((await which(tool)) === undefined) {
      const pkg =
        { ip: 'iproute2', conntrack: 'conntrack', sysctl: 'procps', setpriv: 'util-linux' }[
          tool as string
        ] ?? 'iptables';
      throw new EnvironmentError(
        'KDIAG_TOOL_MISSING',
        `can't build the lab: ${tool} is not installed`,
        `apt-get install ${pkg}`,
      );
    }
  }
}

/** Names of the lab namespaces that exist now. */
export async function labNamespaces(): Promise<string[]> {
  const out = (await run(['ip', 'netns', 'list'])).stdout;
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s/)[0] ?? '')
    .filter((n) => n.startsWith(LAB_PREFIX));
}

/** Removes every `kdiag-lab-*` namespace and the processes still inside; safe to call twice. */
export async function labDown(onStep?: OnStep): Promise<number> {
  const names = await labNamespaces();
  for (const name of names) {
    // Only processes inside our own namespaces: agents or conntrack left by a crashed run.
    const pids = (await run(['ip', 'netns', 'pids', name], { reject: false })).stdout
      .split(/\s+/)
      .filter((p) => /^\d{1,10}$/.test(p));
    for (const pid of pids) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await run(['ip', 'netns', 'del', name], { reject: false });
  }
  if (names.length > 0)
    onStep?.({ t: Date.now(), name: 'down', message: `Namespaces removed: ${names.join(', ')}` });
  return names.length;
}

/** Returns the lab that is up now (all five namespaces and the node's rules), or undefined. */
export async function attachLab(onStep?: OnStep): Promise<Lab | undefined> {
  const names = new Set(await labNamespaces());
  if (!Object.values(NS).every((n) => names.has(n))) return undefined;
  const ok =
    (await run(['iptables', '-t', 'nat', '-S', CHAINS.svc], { netns: NS.node, reject: false }))
      .exitCode === 0;
  return ok ? new Lab(onStep) : undefined;
}

/** Builds the lab from scratch (after removing leftovers of any earlier run). */
export async function labUp(opts: LabUpOptions = {}): Promise<Lab> {
  await checkLabEnvironment();
  const onStep = opts.onStep;
  await labDown(onStep);
  const lab = new Lab(onStep);
  try {
    await build(opts.dropInvalid ?? false);
  } catch (err) {
    await labDown();
    throw err;
  }
  lab.step('up', `Namespaces created: ${Object.values(NS).join(', ')}`);
  lab.step(
    'rules',
    `Kube-proxy rules loaded in ${NS.node}: ${ADDR.vip}:${ADDR.vipPort} → ${ADDR.be1}:${ADDR.backendPort}, ${ADDR.be2}:${ADDR.backendPort}${opts.dropInvalid ? ' (INVALID DROP on)' : ''}`,
  );
  return lab;
}

/** The IPv6 plane on the links build() made (addresses without DAD, so they work at once). */
async function buildV6(ip: (netns: string, ...args: string[]) => Promise<unknown>): Promise<void> {
  const addrs: Array<[string, string, string]> = [
    [NS.client, 'eth0', `${ADDR6.client}/64`],
    [NS.mbox, 'to-client', `${ADDR6.mboxClientSide}/64`],
    [NS.mbox, 'to-node', `${ADDR6.mboxNodeSide}/64`],
    [NS.node, 'to-mbox', `${ADDR6.nodeFront}/64`],
    [NS.node, 'br-svc', `${ADDR6.nodeBack}/64`],
    [NS.be1, 'eth0', `${ADDR6.be1}/64`],
    [NS.be2, 'eth0', `${ADDR6.be2}/64`],
  ];
  for (const [n, dev, cidr] of addrs) await ip(n, '-6', 'addr', 'add', cidr, 'dev', dev, 'nodad');
  for (const dst of [ADDR6.vipCidr, ADDR6.backendCidr])
    await ip(NS.client, '-6', 'route', 'add', dst, 'via', ADDR6.mboxClientSide);
  for (const dst of [ADDR6.vipCidr, ADDR6.backendCidr])
    await ip(NS.mbox, '-6', 'route', 'add', dst, 'via', ADDR6.nodeFront);
  await ip(NS.node, '-6', 'route', 'add', ADDR6.podCidr, 'via', ADDR6.mboxNodeSide);
  // As for IPv4: a VIP packet that escaped DNAT is forwarded, then black-holed on the bridge.
  await ip(NS.node, '-6', 'route', 'add', ADDR6.vipCidr, 'dev', 'br-svc');
  for (const be of [NS.be1, NS.be2])
    await ip(be, '-6', 'route', 'add', ADDR6.podCidr, 'via', ADDR6.nodeBack);
  for (const n of [NS.mbox, NS.node])
    await run(['sysctl', '-q', '-w', 'net.ipv6.conf.all.forwarding=1'], { netns: n });
}

async function build(dropInvalid: boolean): Promise<void> {
  const ip = (netns: string, ...args: string[]) => run(['ip', '-n', netns, ...args]);
  for (const n of Object.values(NS)) {
    await run(['ip', 'netns', 'add', n]);
    await ip(n, 'link', 'set', 'lo', 'up');
  }
  // Each veth is created inside a lab namespace with its peer in another: nothing touches the host's.
  await ip(
    NS.client,
    'link',
    'add',
    'eth0',
    'type',
    'veth',
    'peer',
    'name',
    'to-client',
    'netns',
    NS.mbox,
  );
  await ip(
    NS.mbox,
    'link',
    'add',
    'to-node',
    'type',
    'veth',
    'peer',
    'name',
    'to-mbox',
    'netns',
    NS.node,
  );
  await ip(NS.node, 'link', 'add', 'br-svc', 'type', 'bridge');
  for (const [be, peer] of [
    [NS.be1, 'to-be1'],
    [NS.be2, 'to-be2'],
  ] as const) {
    await ip(be, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', peer, 'netns', NS.node);
    await ip(NS.node, 'link', 'set', peer, 'master', 'br-svc');
    await ip(NS.node, 'link', 'set', peer, 'up');
  }
  const addrs: Array<[string, string, string]> = [
    [NS.client, 'eth0', `${ADDR.client}/25`],
    [NS.mbox, 'to-client', `${ADDR.mboxClientSide}/25`],
    [NS.mbox, 'to-node', `${ADDR.mboxNodeSide}/25`],
    [NS.node, 'to-mbox', `${ADDR.nodeFront}/25`],
    [NS.node, 'br-svc', `${ADDR.nodeBack}/24`],
    [NS.be1, 'eth0', `${ADDR.be1}/24`],
    [NS.be2, 'eth0', `${ADDR.be2}/24`],
  ];
  for (const [n, dev, cidr] of addrs) {
    await ip(n, 'addr', 'add', cidr, 'dev', dev);
    await ip(n, 'link', 'set', dev, 'up');
  }
  // Routes only for lab ranges: no namespace has a default route.
  await ip(NS.client, 'route', 'add', '203.0.113.0/24', 'via', ADDR.mboxClientSide);
  await ip(NS.client, 'route', 'add', '198.51.100.0/24', 'via', ADDR.mboxClientSide);
  await ip(NS.mbox, 'route', 'add', '203.0.113.0/24', 'via', ADDR.nodeFront);
  await ip(NS.mbox, 'route', 'add', '198.51.100.0/24', 'via', ADDR.nodeFront);
  await ip(NS.node, 'route', 'add', '192.0.2.0/25', 'via', ADDR.mboxNodeSide);
  // Stands in for a real node's default route: a packet to the VIP that escaped DNAT (INVALID)
  // is forwarded through FORWARD/KUBE-FORWARD as on a node, then black-holed on the backend
  // bridge (nobody answers ARP for the VIP), instead of bouncing as "network unreachable".
  await ip(NS.node, 'route', 'add', '203.0.113.0/24', 'dev', 'br-svc');
  for (const be of [NS.be1, NS.be2])
    await ip(be, 'route', 'add', '192.0.2.0/24', 'via', ADDR.nodeBack);
  for (const n of [NS.mbox, NS.node]) {
    await run(
      [
        'sysctl',
        '-q',
        '-w',
        'net.ipv4.ip_forward=1',
        'net.ipv4.conf.all.rp_filter=0',
        'net.ipv4.conf.default.rp_filter=0',
      ],
      { netns: n },
    );
  }
  await buildV6(ip);
  await run(['iptables-restore'], { netns: NS.node, input: kubeProxyRuleset({ dropInvalid }) });
  await run(['ip6tables-restore'], {
    netns: NS.node,
    input: kubeProxyRuleset({ dropInvalid }, V6),
  });
  await run(['iptables-restore'], { netns: NS.mbox, input: middleboxRuleset(undefined) });
  for (const [netns, values] of Object.entries(BASELINE_SYSCTLS)) {
    await run(['sysctl', '-q', '-w', ...Object.entries(values).map(([k, v]) => `${k}=${v}`)], {
      netns,
    });
  }
}
