// kube-proxy's configuration after its own defaulting, whichever way it was given.

export type ProxyMode = 'iptables' | 'ipvs' | 'nftables' | 'kernelspace';

/** Durations are whole seconds; 0 means "kube-proxy leaves the kernel value alone". */
export interface KubeProxySettings {
  readonly mode: ProxyMode;
  readonly conntrack: {
    /** 0 = leave nf_conntrack_max as it is (and ignore min). */
    readonly maxPerCore: number;
    readonly min: number;
    readonly tcpEstablishedTimeout: number;
    readonly tcpCloseWaitTimeout: number;
    readonly tcpBeLiberal: boolean;
    readonly udpTimeout: number;
    readonly udpStreamTimeout: number;
  };
  readonly ipvs: {
    readonly scheduler: string;
    readonly tcpTimeout: number;
    readonly tcpFinTimeout: number;
    readonly udpTimeout: number;
    readonly strictARP: boolean;
  };
  /** Where the values came from. */
  readonly origin: 'config-file' | 'flags' | 'defaults';
  /** The --config path, when one was given on the command line. */
  readonly configPath?: string;
  /** Flags given beside --config: kube-proxy ignores them (only logging flags and --hostname-override survive). */
  readonly ignoredFlags: readonly string[];
  /** Fields that were null/absent and took kube-proxy's default. */
  readonly defaulted: readonly string[];
}
