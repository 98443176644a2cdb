// Idle timeouts of cloud elements a flow may cross (domain.md §1.1, FM-11), for --cloud.

/** Which flows an element sees: every flow leaving the node, or only flows to non-private addresses. */
export type CloudReach = 'all' | 'external';

export interface CloudPresetInfo {
  readonly timeoutSec: number;
  readonly label: string;
  readonly reach: CloudReach;
  /** What happens to a packet after expiry. */
  readonly behaviour: 'rst' | 'silent';
  /** The knob that changes it, or how to live with it. */
  readonly knob: string;
  readonly doc: string;
}

export const CLOUD_PRESETS = {
  'aws-nlb': {
    timeoutSec: 350,
    label: 'AWS NLB TCP idle timeout',
    reach: 'all',
    behaviour: 'rst',
    knob: 'listener attribute tcp.idle_timeout.seconds (60–6000 s; TLS listeners fixed at 350 s)',
    doc: 'https://docs.aws.amazon.com/elasticloadbalancing/latest/network/update-idle-timeout.html',
  },
  'aws-nat': {
    timeoutSec: 350,
    label: 'AWS NAT gateway idle timeout',
    reach: 'external',
    behaviour: 'rst',
    knob: 'none: keep keepalive below 350 s',
    doc: 'https://docs.aws.amazon.com/vpc/latest/userguide/nat-gateway-troubleshooting.html#nat-gateway-troubleshooting-timeout',
  },
  'aws-nfw': {
    timeoutSec: 350,
    label: 'AWS Network Firewall TCP idle timeout',
    reach: 'external',
    behaviour: 'silent',
    knob: 'FlowTimeouts.TcpIdleTimeoutSeconds (60–6000 s)',
    doc: 'https://docs.aws.amazon.com/network-firewall/latest/APIReference/API_FlowTimeouts.html',
  },
  'aws-sg-nitro-v6': {
    timeoutSec: 350,
    label: 'AWS security-group connection tracking (Nitro v6)',
    reach: 'all',
    behaviour: 'silent',
    knob: 'ConnectionTrackingSpecification.TcpEstablishedTimeout on the ENI / launch template',
    doc: 'https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ConnectionTrackingSpecificationRequest.html',
  },
  'aws-alb': {
    timeoutSec: 60,
    label: 'AWS ALB idle timeout',
    reach: 'all',
    behaviour: 'rst',
    knob: 'load balancer attribute idle_timeout.timeout_seconds (1–4000 s)',
    doc: 'https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-load-balancer-attributes.html',
  },
  'azure-lb': {
    timeoutSec: 240,
    label: 'Azure Load Balancer idle timeout',
    reach: 'all',
    behaviour: 'silent',
    knob: 'idleTimeoutInMinutes (4–100) and enableTcpReset; Service annotation service.beta.kubernetes.io/azure-load-balancer-tcp-idle-timeout (minutes)',
    doc: 'https://learn.microsoft.com/azure/load-balancer/load-balancer-tcp-idle-timeout',
  },
  'azure-nat': {
    timeoutSec: 240,
    label: 'Azure NAT gateway idle timeout',
    reach: 'external',
    behaviour: 'silent',
    knob: 'idleTimeoutInMinutes (4–120)',
    doc: 'https://learn.microsoft.com/azure/nat-gateway/nat-gateway-resource',
  },
  'aks-outbound': {
    timeoutSec: 1800,
    label: 'AKS managed outbound (load balancer) idle timeout',
    reach: 'external',
    behaviour: 'silent',
    knob: 'loadBalancerProfile.idleTimeoutInMinutes (4–120)',
    doc: 'https://learn.microsoft.com/javascript/api/@azure-rest/arm-containerservice/managedclusterloadbalancerprofile',
  },
  'gcp-vpc': {
    timeoutSec: 600,
    label: 'GCP VPC connection tracking',
    reach: 'all',
    behaviour: 'silent',
    knob: 'none: keep keepalive below 600 s',
    doc: 'https://cloud.google.com/compute/docs/troubleshooting',
  },
  'gcp-nat': {
    timeoutSec: 1200,
    label: 'GCP Cloud NAT TCP established idle timeout',
    reach: 'external',
    behaviour: 'silent',
    knob: 'RouterNat tcpEstablishedIdleTimeoutSec',
    doc: 'https://cloud.google.com/compute/docs/reference/rest/v1/routers',
  },
} as const satisfies Record<string, CloudPresetInfo>;

export type CloudPreset = keyof typeof CLOUD_PRESETS;

/** The preset names, for the CLI to list and validate. */
export function cloudPresetNames(): CloudPreset[] {
  return Object.keys(CLOUD_PRESETS) as CloudPreset[];
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
