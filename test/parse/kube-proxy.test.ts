import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseKubeProxyArgs, resolveKubeProxy } from '../../src/parse/kube-proxy-args.js';
import {
  goDurationSeconds,
  KUBE_PROXY_FIELDS,
  kubeProxyDefaults,
  parseKubeProxyConfig,
} from '../../src/parse/kube-proxy-config.js';

const fixture = (name: string): string =>
  readFileSync(new URL(`../../fixtures/tools/kube-proxy/${name}`, import.meta.url), 'utf8');
const codes = (issues: { line: number; code: string }[]): string[] =>
  issues.map((i) => `${i.line}:${i.code}`);
const bare = (conntrack: string): string =>
  `apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nconntrack:\n${conntrack}\n`;

describe('parseKubeProxyConfig fixtures', () => {
  it('applies defaults to the nulls of a kubeadm ConfigMap', () => {
    const { value, issues } = parseKubeProxyConfig(fixture('kubeadm-configmap.yaml'));
    expect(issues).toEqual([]);
    expect(value).toEqual({
      ...kubeProxyDefaults(),
      origin: 'config-file',
      defaulted: expect.any(Array),
    });
    expect(value.defaulted).toEqual([
      'mode',
      'conntrack.maxPerCore',
      'conntrack.min',
      'conntrack.tcpEstablishedTimeout',
      'conntrack.tcpCloseWaitTimeout',
      'ipvs.scheduler',
    ]);
  });

  it('reads the EKS ConfigMap key "config" with explicit defaults', () => {
    const { value, issues } = parseKubeProxyConfig(fixture('eks-configmap.yaml'));
    expect(issues).toEqual([]);
    expect(value.conntrack).toEqual(kubeProxyDefaults().conntrack);
    expect(value.mode).toBe('iptables');
    expect(value.defaulted).toEqual(
      expect.arrayContaining([
        'conntrack.tcpBeLiberal',
        'conntrack.udpTimeout',
        'ipvs.tcpTimeout',
        'ipvs.strictARP',
      ]),
    );
    expect(value.defaulted).not.toContain('conntrack.maxPerCore');
  });

  it('reads an ipvs config with tcpTimeout 0s (kernel keeps 900 s)', () => {
    const { value, issues } = parseKubeProxyConfig(fixture('ipvs-tcptimeout-0s.yaml'));
    expect(issues).toEqual([]);
    expect(value.mode).toBe('ipvs');
    expect(value.ipvs).toEqual({
      scheduler: 'lc',
      tcpTimeout: 0,
      tcpFinTimeout: 0,
      udpTimeout: 0,
      strictARP: true,
    });
    expect(value.conntrack.tcpEstablishedTimeout).toBe(86400);
  });

  it('keeps explicit zeros as "leave the kernel alone"', () => {
    const { value, issues } = parseKubeProxyConfig(fixture('explicit-zeros.yaml'));
    expect(issues).toEqual([]);
    expect(value.conntrack).toMatchObject({
      maxPerCore: 0,
      min: 0,
      tcpEstablishedTimeout: 0,
      tcpCloseWaitTimeout: 0,
    });
    expect(value.defaulted).not.toContain('conntrack.maxPerCore');
  });

  it('reads 1.29+ conntrack fields and truncates fractional seconds', () => {
    const { value, issues } = parseKubeProxyConfig(fixture('conntrack-tuned.yaml'));
    expect(issues).toEqual([]);
    expect(value.mode).toBe('nftables');
    expect(value.conntrack).toEqual({
      maxPerCore: 65536,
      min: 262144,
      tcpEstablishedTimeout: 9000,
      tcpCloseWaitTimeout: 3600,
      tcpBeLiberal: true,
      udpTimeout: 30,
      udpStreamTimeout: 120,
    });
    expect(value.ipvs).toMatchObject({ tcpTimeout: 7200, tcpFinTimeout: 30, udpTimeout: 90 });
  });
});

describe('parseKubeProxyConfig defaulting', () => {
  it.each([
    ['  maxPerCore: null', 'maxPerCore', 32768, true],
    ['  maxPerCore: 0', 'maxPerCore', 0, false],
    ['  maxPerCore: 16384', 'maxPerCore', 16384, false],
    ['  min: null', 'min', 131072, true],
    ['  min: 0', 'min', 0, false],
    ['  tcpEstablishedTimeout: null', 'tcpEstablishedTimeout', 86400, true],
    ['  tcpEstablishedTimeout: 0s', 'tcpEstablishedTimeout', 0, false],
    ['  tcpEstablishedTimeout: 24h0m0s', 'tcpEstablishedTimeout', 86400, false],
    ['  tcpEstablishedTimeout: "0"', 'tcpEstablishedTimeout', 0, false],
    ['  tcpCloseWaitTimeout: null', 'tcpCloseWaitTimeout', 3600, true],
    ['  tcpCloseWaitTimeout: 0s', 'tcpCloseWaitTimeout', 0, false],
    ['  tcpCloseWaitTimeout: 1m0.9s', 'tcpCloseWaitTimeout', 60, false],
    ['  udpTimeout: null', 'udpTimeout', 0, true],
    ['  udpTimeout: 0s', 'udpTimeout', 0, false],
    ['  udpStreamTimeout: 2m0s', 'udpStreamTimeout', 120, false],
    ['  tcpBeLiberal: null', 'tcpBeLiberal', false, true],
    ['  tcpBeLiberal: true', 'tcpBeLiberal', true, false],
  ] as const)('%s → %s = %s', (yaml, key, expected, defaulted) => {
    const { value, issues } = parseKubeProxyConfig(bare(yaml));
    expect(issues).toEqual([]);
    expect(value.conntrack[key]).toBe(expected);
    expect(value.defaulted.includes(`conntrack.${key}`)).toBe(defaulted);
  });

  it.each([
    ['conntrack:', 32768],
    ['conntrack: null', 32768],
    ['conntrack: {}', 32768],
  ])('absent fields default (%s)', (block, maxPerCore) => {
    const text = `apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n${block}\n`;
    const { value, issues } = parseKubeProxyConfig(text);
    expect(issues).toEqual([]);
    expect(value.conntrack.maxPerCore).toBe(maxPerCore);
    expect(value.defaulted).toEqual([...KUBE_PROXY_FIELDS]);
  });

  it.each([
    ['24h0m0s', 86400],
    ['1h30m', 5400],
    ['500ms', 0],
    ['1.5s', 1],
    ['0', 0],
  ])('Go duration %s = %d s', (text, sec) => {
    expect(goDurationSeconds(text)).toEqual({ ok: true, value: sec });
  });

  it.each(['86400', '1d', '-5s', 'forever', '', '5 s'])('refuses duration %j', (text) => {
    expect(goDurationSeconds(text).ok).toBe(false);
  });
});

describe('parseKubeProxyConfig failures', () => {
  it('reports a YAML syntax error inside a ConfigMap at the outer line', () => {
    const { value, issues } = parseKubeProxyConfig(fixture('configmap-malformed-syntax.yaml'));
    expect(issues).toHaveLength(1);
    expect(issues[0]!.code).toBe('kube-proxy.yaml-syntax');
    expect(issues[0]!.line).toBe(12);
    expect(value.conntrack.maxPerCore).toBe(32768);
  });

  it('reports each bad value at its line and defaults it', () => {
    const { value, issues } = parseKubeProxyConfig(fixture('config-malformed-values.yaml'));
    expect(codes(issues)).toEqual([
      '11:kube-proxy.bad-field',
      '4:kube-proxy.bad-field',
      '5:kube-proxy.bad-field',
      '7:kube-proxy.bad-duration',
      '6:kube-proxy.bad-duration',
      '8:kube-proxy.bad-field',
      '10:kube-proxy.bad-duration',
    ]);
    expect(value.conntrack).toEqual(kubeProxyDefaults().conntrack);
    expect(value.mode).toBe('iptables');
  });

  it('reports an unknown apiVersion and kind', () => {
    const { value, issues } = parseKubeProxyConfig(fixture('config-malformed-kind.yaml'));
    expect(codes(issues)).toEqual([
      '1:kube-proxy.unknown-api-version',
      '2:kube-proxy.unknown-kind',
    ]);
    expect(value.conntrack.maxPerCore).toBe(0);
  });

  it('reports a ConfigMap without a config key', () => {
    expect(codes(parseKubeProxyConfig(fixture('configmap-malformed-nokey.yaml')).issues)).toEqual([
      '7:kube-proxy.no-config-key',
    ]);
  });

  it.each([
    '',
    '- a\n- b',
    '42',
    'a: &a [*a, *a]',
    '{{{',
    '\0\0\0',
    'a: ' + '[a, '.repeat(2000),
    'kind: ConfigMap\ndata:\n  config: 5',
    'conntrack: 5',
  ])('never throws on garbage (%#)', (text) => {
    const r = parseKubeProxyConfig(text);
    expect(r.value.mode).toBe('iptables');
  });
});

describe('parseKubeProxyArgs', () => {
  it('reads the kubeadm command: --config wins, no ignored flags', () => {
    const { value, issues } = parseKubeProxyArgs(fixture('args-kubeadm.txt'));
    expect(issues).toEqual([]);
    expect(value.args).toEqual([
      '/usr/local/bin/kube-proxy',
      '--config=/var/lib/kube-proxy/config.conf',
      '--hostname-override=$(NODE_NAME)',
    ]);
    expect(value.configPath).toBe('/var/lib/kube-proxy/config.conf');
    expect(value.settings).toMatchObject({
      origin: 'config-file',
      configPath: '/var/lib/kube-proxy/config.conf',
      ignoredFlags: [],
    });
  });

  it('reads NUL-separated /proc/<pid>/cmdline', () => {
    const { value, issues } = parseKubeProxyArgs(fixture('args-kubeadm.cmdline'));
    expect(issues).toEqual([]);
    expect(value.args).toEqual([
      '/usr/local/bin/kube-proxy',
      '--config=/var/lib/kube-proxy/config.conf',
      '--hostname-override=kind-worker',
    ]);
    expect(value.configPath).toBe('/var/lib/kube-proxy/config.conf');
  });

  it('reads GKE-style flags on one line, "--flag value" and bare booleans', () => {
    const { value, issues } = parseKubeProxyArgs(fixture('args-gke.txt'));
    expect(issues).toEqual([]);
    expect(value.configPath).toBeUndefined();
    expect(value.settings.origin).toBe('flags');
    expect(value.settings.conntrack).toMatchObject({
      maxPerCore: 0,
      tcpEstablishedTimeout: 10800,
      tcpBeLiberal: true,
      min: 131072,
    });
    expect(value.settings.defaulted).toContain('conntrack.min');
    expect(value.settings.defaulted).not.toContain('conntrack.maxPerCore');
  });

  it('lists conntrack/mode flags given beside --config as ignored', () => {
    const { value, issues } = parseKubeProxyArgs(fixture('args-flags-beside-config.txt'));
    expect(issues).toEqual([]);
    expect(value.configPath).toBe('/var/lib/kube-proxy-config/config');
    expect(value.settings.ignoredFlags).toEqual([
      '--conntrack-max-per-core=0',
      '--conntrack-tcp-timeout-established=2h0m0s',
      '--proxy-mode=ipvs',
    ]);
    expect(value.settings.conntrack.maxPerCore).toBe(32768);
    expect(value.settings.mode).toBe('iptables');
  });

  it('reports bad flag values with their lines', () => {
    const { value, issues } = parseKubeProxyArgs(fixture('args-malformed.txt'));
    expect(codes(issues)).toEqual([
      '6:kube-proxy.missing-value',
      '2:kube-proxy.bad-flag',
      '3:kube-proxy.bad-flag',
      '4:kube-proxy.bad-duration',
      '5:kube-proxy.bad-flag',
    ]);
    expect(value.settings.conntrack).toEqual(kubeProxyDefaults().conntrack);
  });

  it.each([
    '',
    '\0',
    '--config',
    '"unterminated',
    '--proxy-mode',
    '- - - -',
    '--=x',
    '--conntrack-min=99999999999',
    '-'.repeat(10_000),
  ])('never throws on garbage (%#)', (text) => {
    expect(() => parseKubeProxyArgs(text)).not.toThrow();
  });
});

describe('resolveKubeProxy', () => {
  const config = parseKubeProxyConfig(fixture('explicit-zeros.yaml'));

  it('takes the config file when --config names it, keeping ignored flags', () => {
    const args = parseKubeProxyArgs(fixture('args-flags-beside-config.txt'));
    const s = resolveKubeProxy(args, config);
    expect(s).toMatchObject({
      origin: 'config-file',
      configPath: '/var/lib/kube-proxy-config/config',
      conntrack: { maxPerCore: 0, tcpEstablishedTimeout: 0 },
    });
    expect(s.ignoredFlags).toHaveLength(3);
  });

  it('takes flags when there is no --config, even if a file is known', () => {
    const s = resolveKubeProxy(parseKubeProxyArgs(fixture('args-gke.txt')), config);
    expect(s).toMatchObject({ origin: 'flags', conntrack: { tcpEstablishedTimeout: 10800 } });
  });

  it('falls back to the file alone, then to defaults', () => {
    expect(resolveKubeProxy(undefined, config).conntrack.maxPerCore).toBe(0);
    expect(resolveKubeProxy(undefined, undefined)).toEqual(kubeProxyDefaults());
    const onlyArgs = resolveKubeProxy(parseKubeProxyArgs(fixture('args-kubeadm.txt')), undefined);
    expect(onlyArgs).toMatchObject({
      origin: 'config-file',
      configPath: '/var/lib/kube-proxy/config.conf',
      conntrack: { maxPerCore: 32768 },
    });
  });
});
