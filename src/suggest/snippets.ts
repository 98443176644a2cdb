// Exact text of the fixes: application keepalive code, pod YAML, sysctl lines, kube-proxy patches.
import type { KeepalivePlan } from './values.js';

/** Application keepalive snippets, one per language. */
export function appKeepaliveSnippets(p: KeepalivePlan): { label: string; text: string }[] {
  const { idleSec: i, intervalSec: n, probes: c } = p;
  return [
    {
      label: 'Go ≥ 1.23',
      text: `d := net.Dialer{KeepAliveConfig: net.KeepAliveConfig{Enable: true, Idle: ${i} * time.Second, Interval: ${n} * time.Second, Count: ${c}}}`,
    },
    {
      label: 'Go < 1.23 (sets idle and interval to the same value)',
      text: `d := net.Dialer{KeepAlive: ${i} * time.Second}`,
    },
    {
      label: 'Java ≥ 11',
      text: [
        'socket.setKeepAlive(true);',
        `socket.setOption(jdk.net.ExtendedSocketOptions.TCP_KEEPIDLE, ${i});`,
        `socket.setOption(jdk.net.ExtendedSocketOptions.TCP_KEEPINTERVAL, ${n});`,
        `socket.setOption(jdk.net.ExtendedSocketOptions.TCP_KEEPCOUNT, ${c});`,
      ].join('\n'),
    },
    {
      label: 'Python',
      text: [
        's.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)',
        `s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, ${i})`,
        `s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, ${n})`,
        `s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, ${c})`,
      ].join('\n'),
    },
    {
      label:
        'Node.js (sets the idle time; Node 20 itself sets a 1 s interval and 10 probes, measured in the lab)',
      text: `socket.setKeepAlive(true, ${i * 1000});`,
    },
  ];
}

/** `spec.securityContext.sysctls` for the pod. */
export function podSysctlYaml(p: KeepalivePlan): string {
  return [
    'spec:',
    '  securityContext:',
    '    sysctls:',
    '    - name: net.ipv4.tcp_keepalive_time',
    `      value: "${p.idleSec}"`,
    '    - name: net.ipv4.tcp_keepalive_intvl',
    `      value: "${p.intervalSec}"`,
    '    - name: net.ipv4.tcp_keepalive_probes',
    `      value: "${p.probes}"`,
  ].join('\n');
}

/** Live and persistent commands for one node sysctl. */
export function nodeSysctlCommands(
  key: string,
  value: string | number,
): { label: string; text: string }[] {
  return [
    { label: 'now', text: `sysctl -w ${key}=${value}` },
    { label: 'persist (/etc/sysctl.d/90-kdiag.conf)', text: `${key} = ${value}` },
  ];
}

/** A KubeProxyConfiguration patch for one dotted field path. */
export function kubeProxyPatch(fields: readonly { path: string; value: string }[]): string {
  const lines = ['apiVersion: kubeproxy.config.k8s.io/v1alpha1', 'kind: KubeProxyConfiguration'];
  const groups = new Map<string, { key: string; value: string }[]>();
  for (const f of fields) {
    const dot = f.path.indexOf('.');
    const g = dot < 0 ? '' : f.path.slice(0, dot);
    const key = dot < 0 ? f.path : f.path.slice(dot + 1);
    const list = groups.get(g) ?? [];
    list.push({ key, value: f.value });
    groups.set(g, list);
  }
  for (const [g, list] of groups) {
    if (g === '') for (const f of list) lines.push(`${f.key}: ${f.value}`);
    else {
      lines.push(`${g}:`);
      for (const f of list) lines.push(`  ${f.key}: ${f.value}`);
    }
  }
  return lines.join('\n');
}

/** kube-proxy flags and their KubeProxyConfiguration field (v1alpha1). */
export const KUBE_PROXY_FLAG_FIELDS: Readonly<Record<string, string>> = {
  '--conntrack-tcp-timeout-established': 'conntrack.tcpEstablishedTimeout',
  '--conntrack-tcp-timeout-close-wait': 'conntrack.tcpCloseWaitTimeout',
  '--conntrack-max-per-core': 'conntrack.maxPerCore',
  '--conntrack-min': 'conntrack.min',
  '--conntrack-tcp-be-liberal': 'conntrack.tcpBeLiberal',
  '--conntrack-udp-timeout': 'conntrack.udpTimeout',
  '--conntrack-udp-timeout-stream': 'conntrack.udpStreamTimeout',
  '--ipvs-tcp-timeout': 'ipvs.tcpTimeout',
  '--ipvs-tcpfin-timeout': 'ipvs.tcpFinTimeout',
  '--ipvs-udp-timeout': 'ipvs.udpTimeout',
  '--ipvs-scheduler': 'ipvs.scheduler',
  '--ipvs-strict-arp': 'ipvs.strictARP',
  '--proxy-mode': 'mode',
};

export const KUBE_PROXY_WARNINGS: readonly string[] = [
  'Flags beside --config are ignored: put the value in the KubeProxyConfiguration (ConfigMap kube-system/kube-proxy, key config.conf; on EKS kube-system/kube-proxy-config).',
  'kube-proxy writes its sysctls and IPVS timeouts only at start: restart it after the change (kubectl -n kube-system rollout restart daemonset/kube-proxy), and it rewrites them on every restart.',
];
