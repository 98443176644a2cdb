// Idle timers beyond the node a flow may cross (domain.md §1.1, FM-11), for --cloud: the timeout,
// what the element does when it expires, which flows cross it by default, and the provider's doc.
// docs/cloud-layers.md prints the same table; test/model/cloud-presets.test.ts keeps them equal.

/**
 * What the element does when an idle flow's timer expires.
 * - `rst-at-expiry`: sends RST to both ends at expiry (the sockets die at once: ECONNRESET).
 * - `rst-on-next-packet`: forgets the flow silently; the next packet of it (data or a keepalive
 *   probe) is answered with RST (ECONNRESET on the side that sent it).
 * - `silent`: forgets the flow and drops its later packets: retransmissions or unanswered
 *   keepalive probes, then ETIMEDOUT.
 * - `close-at-expiry`: a proxy that ends its own connections (FIN): the application reads EOF.
 */
export type ExpiryBehaviour = 'rst-at-expiry' | 'rst-on-next-packet' | 'silent' | 'close-at-expiry';

/**
 * Which flows an element sees unless `--cloud preset@…` says otherwise: `all` flows leaving the
 * node, `external` (egress to addresses outside the private ranges, a NAT), or `ingress` (flows
 * that arrive from outside or at a NodePort: a load balancer in front of a Service).
 */
export type CloudReach = 'all' | 'external' | 'ingress';

export interface CloudPresetInfo {
  /** The default idle timeout, seconds; null when the element has none (it must be given). */
  readonly timeoutSec: number | null;
  readonly label: string;
  readonly reach: CloudReach;
  readonly behaviour: ExpiryBehaviour;
  /**
   * Whether TCP keepalive probes re-arm it. An L7 proxy counts application data only: the probes
   * are answered by the kernel under it and never reach the proxy.
   */
  readonly keepaliveRefreshes: boolean;
  /** The knob that changes it, or how to live with it. */
  readonly knob: string;
  /** The provider document's title and address (text: the repository links nowhere). */
  readonly docTitle: string;
  readonly doc: string;
  /** What else the document says that changes the diagnosis. */
  readonly note?: string;
}

export const CLOUD_PRESETS = {
  'aws-nlb': {
    timeoutSec: 350,
    label: 'AWS NLB TCP idle timeout',
    reach: 'ingress',
    behaviour: 'rst-on-next-packet',
    keepaliveRefreshes: true,
    knob: 'listener attribute tcp.idle_timeout.seconds (60–6000 s; TLS listeners fixed at 350 s)',
    docTitle: 'Update the TCP idle timeout for your Network Load Balancer listener',
    doc: 'https://docs.aws.amazon.com/elasticloadbalancing/latest/network/update-idle-timeout.html',
    note: 'above 350 s the targets’ ENI connection tracking (350 s on Nitro v6) must be raised too, or it drops the flow silently first',
  },
  'aws-nat': {
    timeoutSec: 350,
    label: 'AWS NAT gateway idle timeout',
    reach: 'external',
    behaviour: 'rst-on-next-packet',
    keepaliveRefreshes: true,
    knob: 'none: keep keepalive below 350 s',
    docTitle: 'Troubleshoot NAT gateways (connection timeout)',
    doc: 'https://docs.aws.amazon.com/vpc/latest/userguide/nat-gateway-troubleshooting.html#nat-gateway-troubleshooting-timeout',
    note: 'returns RST (never FIN) to the inside host that continues the connection; CloudWatch IdleTimeoutCount counts them',
  },
  'aws-gwlb': {
    timeoutSec: 350,
    label: 'AWS Gateway Load Balancer TCP idle timeout',
    reach: 'all',
    behaviour: 'silent',
    keepaliveRefreshes: true,
    knob: 'listener attributes tcp.idle_timeout.seconds (60–6000 s) and send_tcp_reset.on_idle_timeout.enabled (default false)',
    docTitle: 'Listeners for your Gateway Load Balancers',
    doc: 'https://docs.aws.amazon.com/elasticloadbalancing/latest/gateway/gateway-listeners.html',
    note: 'with send_tcp_reset.on_idle_timeout.enabled it sends RST at expiry instead',
  },
  'aws-nfw': {
    timeoutSec: 350,
    label: 'AWS Network Firewall TCP idle timeout',
    reach: 'external',
    behaviour: 'silent',
    keepaliveRefreshes: true,
    knob: 'FlowTimeouts.TcpIdleTimeoutSeconds (60–6000 s)',
    docTitle: 'FlowTimeouts - AWS Network Firewall',
    doc: 'https://docs.aws.amazon.com/network-firewall/latest/APIReference/API_FlowTimeouts.html',
  },
  'aws-sg-nitro-v6': {
    timeoutSec: 350,
    label: 'AWS ENI connection tracking (Nitro v6)',
    reach: 'all',
    behaviour: 'silent',
    keepaliveRefreshes: true,
    knob: 'ConnectionTrackingSpecification.TcpEstablishedTimeout on the ENI / launch template (60–432000 s)',
    docTitle: 'ConnectionTrackingConfiguration - Amazon Elastic Compute Cloud',
    doc: 'https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ConnectionTrackingConfiguration.html',
    note: '432000 s on other instance types; an NLB idle timeout longer than it does not help',
  },
  'aws-alb': {
    timeoutSec: 60,
    label: 'AWS ALB idle timeout',
    reach: 'ingress',
    behaviour: 'close-at-expiry',
    keepaliveRefreshes: false,
    knob: 'load balancer attribute idle_timeout.timeout_seconds (1–4000 s)',
    docTitle: 'Edit attributes for your Application Load Balancer',
    doc: 'https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-load-balancer-attributes.html',
  },
  'azure-lb': {
    timeoutSec: 240,
    label: 'Azure Load Balancer idle timeout',
    reach: 'ingress',
    behaviour: 'silent',
    keepaliveRefreshes: true,
    knob: 'idleTimeoutInMinutes (4–100) and enableTcpReset; Service annotation service.beta.kubernetes.io/azure-load-balancer-tcp-idle-timeout (minutes)',
    docTitle: 'Load Balancer TCP Reset and Idle Timeout',
    doc: 'https://learn.microsoft.com/azure/load-balancer/load-balancer-tcp-reset',
    note: 'silent unless the rule has TCP reset on idle; use azure-lb-k8s for rules the Kubernetes cloud provider made',
  },
  'azure-lb-k8s': {
    timeoutSec: 240,
    label: 'Azure Load Balancer rule made by Kubernetes (TCP reset on)',
    reach: 'ingress',
    behaviour: 'rst-at-expiry',
    keepaliveRefreshes: true,
    knob: 'Service annotation service.beta.kubernetes.io/azure-load-balancer-tcp-idle-timeout (4–100 minutes)',
    docTitle: 'Load Balancer TCP Reset and Idle Timeout',
    doc: 'https://learn.microsoft.com/azure/load-balancer/load-balancer-tcp-reset',
    note: 'the Kubernetes Azure cloud provider sets enableTcpReset on the TCP rules of Standard load balancers: bidirectional RST at expiry',
  },
  'azure-nat': {
    timeoutSec: 240,
    label: 'Azure NAT gateway idle timeout',
    reach: 'external',
    behaviour: 'rst-on-next-packet',
    keepaliveRefreshes: true,
    knob: 'idleTimeoutInMinutes (4–120)',
    docTitle: 'Azure NAT Gateway resource (TCP reset)',
    doc: 'https://learn.microsoft.com/azure/nat-gateway/nat-gateway-resource',
    note: 'drops the flow silently at expiry; a later packet of it gets a one-way RST',
  },
  'aks-outbound': {
    timeoutSec: 1800,
    label: 'AKS managed outbound (load balancer) idle timeout',
    reach: 'external',
    behaviour: 'silent',
    keepaliveRefreshes: true,
    knob: 'loadBalancerProfile.idleTimeoutInMinutes (4–120)',
    docTitle: 'ManagedClusterLoadBalancerProfile (idleTimeoutInMinutes)',
    doc: 'https://learn.microsoft.com/javascript/api/@azure-rest/arm-containerservice/managedclusterloadbalancerprofile',
    note: 'the Load Balancer default (silent drop) is assumed: the document does not say whether the outbound rule has TCP reset',
  },
  'gcp-vpc': {
    timeoutSec: 600,
    label: 'GCP VPC firewall connection tracking',
    reach: 'all',
    behaviour: 'silent',
    keepaliveRefreshes: true,
    knob: 'none: keep keepalive below 600 s',
    docTitle: 'Troubleshooting Compute Engine (idle connections)',
    doc: 'https://cloud.google.com/compute/docs/troubleshooting',
    note: 'after expiry inbound packets are dropped until the VM sends a new outbound packet',
  },
  'gcp-nat': {
    timeoutSec: 1200,
    label: 'GCP Cloud NAT TCP established idle timeout',
    reach: 'external',
    behaviour: 'silent',
    keepaliveRefreshes: true,
    knob: 'RouterNat tcpEstablishedIdleTimeoutSec',
    docTitle: 'Compute Engine API: routers (RouterNat.tcpEstablishedIdleTimeoutSec)',
    doc: 'https://cloud.google.com/compute/docs/reference/rest/v1/routers',
  },
  'oci-nlb': {
    timeoutSec: 360,
    label: 'OCI Network Load Balancer TCP idle timeout',
    reach: 'ingress',
    behaviour: 'silent',
    keepaliveRefreshes: true,
    knob: 'listener tcpIdleTimeout (oci nlb listener update --tcp-idle-timeout)',
    docTitle: "Changing a Listener's Idle Timeout (Network Load Balancer)",
    doc: 'https://docs.oracle.com/en-us/iaas/Content/NetworkLoadBalancer/NetworkLoadBalancers/configure-idle-timeout.htm',
    note: 'the document does not say what happens to a later packet: kdiag assumes a silent drop',
  },
  'oci-lb': {
    timeoutSec: 300,
    label: 'OCI Load Balancer backend idle close',
    reach: 'ingress',
    behaviour: 'close-at-expiry',
    keepaliveRefreshes: false,
    knob: 'none for the backend side (fixed 300 s); the listener idle timeout governs the client side',
    docTitle: 'Load Balancer Timeout Connection Settings',
    doc: 'https://docs.oracle.com/iaas/Content/Balance/Reference/connectionreuse.htm',
    note: 'closes backend connections idle more than 300 s; the client side keeps the listener’s idle timeout',
  },
  envoy: {
    timeoutSec: 3600,
    label: 'Envoy HTTP connection idle timeout',
    reach: 'all',
    behaviour: 'close-at-expiry',
    keepaliveRefreshes: false,
    knob: 'common_http_protocol_options.idle_timeout (HTTP connection manager, cluster)',
    docTitle: 'How do I configure timeouts? (Envoy FAQ)',
    doc: 'https://www.envoyproxy.io/docs/envoy/latest/faq/configuration/timeouts',
    note: 'counts requests, not TCP keepalive; applies when no request is active',
  },
  'ingress-nginx': {
    timeoutSec: 60,
    label: 'ingress-nginx proxy read/send timeout',
    reach: 'ingress',
    behaviour: 'close-at-expiry',
    keepaliveRefreshes: false,
    knob: 'ConfigMap proxy-read-timeout / proxy-send-timeout, or the nginx.ingress.kubernetes.io/proxy-read-timeout annotation',
    docTitle: 'ConfigMap - Ingress-Nginx Controller (proxy-read-timeout)',
    doc: 'https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/configmap/',
  },
  haproxy: {
    timeoutSec: null,
    label: 'HAProxy timeout client / timeout server',
    reach: 'all',
    behaviour: 'close-at-expiry',
    keepaliveRefreshes: false,
    knob: 'timeout client / timeout server (timeout tunnel once upgraded); give it as --cloud haproxy:50s',
    docTitle: 'HAProxy Configuration Manual (timeout client, timeout server)',
    doc: 'https://docs.haproxy.org/3.0/configuration.html#4-timeout%20client',
    note: 'no default: unset means no inactivity timeout, so the value must be given',
  },
} as const satisfies Record<string, CloudPresetInfo>;

export type CloudPreset = keyof typeof CLOUD_PRESETS;

/** Other names a preset answers to (the provider's own wording). */
export const CLOUD_PRESET_ALIASES: Readonly<Record<string, CloudPreset>> = {
  'aws-nat-gateway': 'aws-nat',
  'aws-eni-nitro': 'aws-sg-nitro-v6',
  'aws-network-firewall': 'aws-nfw',
  'azure-nat-gateway': 'azure-nat',
  'gcp-cloud-nat': 'gcp-nat',
};

/** The preset names, for the CLI to list and validate. */
export function cloudPresetNames(): CloudPreset[] {
  return Object.keys(CLOUD_PRESETS) as CloudPreset[];
}

/** The preset a name or alias stands for. */
export function cloudPresetOf(name: string): CloudPreset | undefined {
  if (Object.prototype.hasOwnProperty.call(CLOUD_PRESETS, name)) return name as CloudPreset;
  return Object.prototype.hasOwnProperty.call(CLOUD_PRESET_ALIASES, name)
    ? CLOUD_PRESET_ALIASES[name]
    : undefined;
}

/** What the element does at expiry, as a verb phrase ("Then it …"). */
export function behaviourPhrase(b: ExpiryBehaviour): string {
  switch (b) {
    case 'rst-at-expiry':
      return 'sends RST to both ends at expiry (ECONNRESET)';
    case 'rst-on-next-packet':
      return 'forgets the flow silently and answers its next packet with RST (ECONNRESET)';
    case 'silent':
      return 'drops its later packets silently (retransmits, then ETIMEDOUT)';
    case 'close-at-expiry':
      return 'closes the connection (FIN: the application reads EOF)';
  }
}

/** True for addresses that never leave a private network (RFC 1918, CGNAT, loopback, link-local, ULA). */
export function isPrivateAddr(addr: string): boolean {
  if (addr.includes(':')) {
    const a = addr.toLowerCase();
    return a === '::1' || a.startsWith('fc') || a.startsWith('fd') || a.startsWith('fe80');
  }
  const p = addr.split('.').map(Number);
  const [a, b] = [p[0] ?? -1, p[1] ?? -1];
  return (
    a === 10 ||
    a === 127 ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 100 && b >= 64 && b <= 127) ||
    (a === 169 && b === 254)
  );
}

/** True for loopback addresses. */
export function isLoopback(addr: string): boolean {
  return addr === '::1' || addr.startsWith('127.');
}
