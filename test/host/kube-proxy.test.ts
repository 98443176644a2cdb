// doctor, check and the recorded sources read kube-proxy through one reader and one decision; a JSON
// KubeProxyConfiguration (valid YAML, and what some installers write) used to split them: doctor's
// own `mode:` regex found nothing and said "default" while check's parser said ipvs.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeProxySettingsOf, readKubeProxy } from '../../src/host/kube-proxy.js';
import { parseKubeProxyArgs, resolveKubeProxy } from '../../src/parse/kube-proxy-args.js';
import { parseKubeProxyConfig } from '../../src/parse/kube-proxy-config.js';
import { diagnoseHost, formatDoctorText } from '../../src/services/doctor.js';
import { findKubeProxy, type HostCapabilities } from '../../src/sources/host-capabilities.js';
import { kubeProxyArgsSource, kubeProxyConfigSource } from '../../src/sources/kube-proxy-source.js';
import type { RawRecord } from '../../src/engine/raw-record.js';

const JSON_CONFIG =
  '{"apiVersion":"kubeproxy.config.k8s.io/v1alpha1","kind":"KubeProxyConfiguration","mode":"ipvs","conntrack":{"tcpEstablishedTimeout":"1h0m0s"}}\n';
// --proxy-mode is ignored by kube-proxy once --config is given; doctor used to read it first.
const CMDLINE =
  '/usr/local/bin/kube-proxy\0--proxy-mode=iptables\0--config=/etc/kube-proxy/config.json\0--hostname-override=node-1\0';

async function lines(src: { records(s: AbortSignal): AsyncIterable<RawRecord> }): Promise<string> {
  const out: string[] = [];
  for await (const r of src.records(new AbortController().signal))
    if (r.k === undefined) out.push(r.line);
  return out.join('\n');
}

function host(kubeProxy: HostCapabilities['kubeProxy']): HostCapabilities {
  return {
    kernel: '6.1.0',
    root: true,
    bpftrace: { path: '/usr/bin/bpftrace', version: '0.20.0', probeTypes: {} },
    tracefs: '/sys/kernel/tracing',
    btf: true,
    hz: { hz: 250, source: '/boot/config' },
    tracepoints: [],
    conntrack: { tool: '/usr/sbin/conntrack', version: '1.4.8', module: true, events: 1 },
    ipvs: { tool: undefined, module: false },
    kubeProxy,
  };
}

describe('kube-proxy with a JSON config file', () => {
  let root: string;
  let proc: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'kdiag-kp-json-'));
    proc = join(root, 'proc');
    mkdirSync(join(proc, '900', 'root', 'etc', 'kube-proxy'), { recursive: true });
    writeFileSync(join(proc, '900', 'comm'), 'kube-proxy\n');
    writeFileSync(join(proc, '900', 'cmdline'), CMDLINE);
    writeFileSync(join(proc, '900', 'root', 'etc', 'kube-proxy', 'config.json'), JSON_CONFIG);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('doctor, check and the recorded sources agree: mode ipvs, from the config file', async () => {
    const reading = await readKubeProxy({ proc, defaultConfig: join(root, 'nowhere') });
    expect(reading.discovery).toMatchObject({
      origin: 'process',
      pid: 900,
      configPath: '/etc/kube-proxy/config.json',
    });
    expect(reading.settings).toMatchObject({ mode: 'ipvs', origin: 'config-file' });
    expect(reading.settings.conntrack.tcpEstablishedTimeout).toBe(3600);

    // doctor
    const kp = await findKubeProxy(proc);
    expect(kp).toMatchObject({
      pid: 900,
      mode: 'ipvs',
      configPath: '/etc/kube-proxy/config.json',
      configFound: true,
    });
    expect(formatDoctorText(diagnoseHost(host(kp)))).toContain(
      'kube-proxy pid 900, mode ipvs, config /etc/kube-proxy/config.json',
    );

    // check: what the analysis makes of the recorded kube-proxy:args and kube-proxy:config lines
    const args = await lines(kubeProxyArgsSource(reading.discovery, { clock: () => 1, proc }));
    const config = await lines(kubeProxyConfigSource(reading.discovery, { clock: () => 1 }));
    const analysed = resolveKubeProxy(parseKubeProxyArgs(args), parseKubeProxyConfig(config));
    expect(analysed).toEqual(reading.settings);
  });

  it('an unreadable config leaves the mode unknown for doctor, not "default"', async () => {
    const p2 = join(root, 'proc2');
    mkdirSync(join(p2, '901'), { recursive: true });
    writeFileSync(join(p2, '901', 'comm'), 'kube-proxy\n');
    writeFileSync(join(p2, '901', 'cmdline'), CMDLINE);
    const kp = await findKubeProxy(p2);
    expect(kp).toMatchObject({ pid: 901, mode: undefined, configFound: false });
    expect(formatDoctorText(diagnoseHost(host(kp)))).toContain('mode unknown');
  });

  it('without --config the flags are the settings; with neither, the defaults', () => {
    expect(kubeProxySettingsOf(['kube-proxy', '--proxy-mode=ipvs'], undefined)).toMatchObject({
      mode: 'ipvs',
      origin: 'flags',
    });
    expect(
      kubeProxySettingsOf(
        ['kube-proxy', '--proxy-mode', 'ipvs', '--config=/x'],
        JSON_CONFIG.replace('ipvs', 'nftables'),
      ),
    ).toMatchObject({ mode: 'nftables', ignoredFlags: ['--proxy-mode=ipvs'] });
    expect(kubeProxySettingsOf(undefined, undefined).defaulted).toEqual([]);
  });
});
