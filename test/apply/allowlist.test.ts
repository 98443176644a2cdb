import { describe, expect, it } from 'vitest';
import {
  allowedSysctlKeys,
  checkIpvsTimeouts,
  checkSysctl,
  findAllowedSysctl,
  notesForSysctl,
} from '../../src/apply/allowlist.js';
import { parseChangeFlag } from '../../src/apply/resolve.js';
import { targetFor } from '../../src/apply/target.js';
import { UsageError } from '../../src/errors.js';

const oneLine = (fn: () => unknown): UsageError => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).not.toContain('\n');
    return err as UsageError;
  }
  throw new Error('expected a UsageError');
};

describe('allowlist', () => {
  it('holds exactly the keys suggestions name', () => {
    const keys = allowedSysctlKeys();
    for (const k of [
      'net.netfilter.nf_conntrack_tcp_timeout_established',
      'net.netfilter.nf_conntrack_tcp_timeout_close_wait',
      'net.netfilter.nf_conntrack_tcp_timeout_fin_wait',
      'net.netfilter.nf_conntrack_tcp_timeout_time_wait',
      'net.netfilter.nf_conntrack_tcp_timeout_unacknowledged',
      'net.netfilter.nf_conntrack_tcp_timeout_max_retrans',
      'net.netfilter.nf_conntrack_tcp_be_liberal',
      'net.netfilter.nf_conntrack_tcp_loose',
      'net.netfilter.nf_conntrack_tcp_ignore_invalid_rst',
      'net.netfilter.nf_conntrack_udp_timeout',
      'net.netfilter.nf_conntrack_udp_timeout_stream',
      'net.netfilter.nf_conntrack_max',
      'net.ipv4.tcp_keepalive_time',
      'net.ipv4.tcp_keepalive_intvl',
      'net.ipv4.tcp_keepalive_probes',
      'net.ipv4.vs.sloppy_tcp',
      'net.ipv4.vs.conn_reuse_mode',
      'net.ipv4.vs.expire_nodest_conn',
    ]) {
      expect(keys).toContain(k);
    }
    expect(keys).toHaveLength(19); // the above + nf_conntrack_tcp_max_retrans
  });

  it('accepts allowlisted keys with valid values and canonicalizes them', () => {
    expect(checkSysctl('net/ipv4/tcp_keepalive_time', ' 600 ')).toMatchObject({
      key: 'net.ipv4.tcp_keepalive_time',
      value: '600',
    });
    expect(checkSysctl('net.netfilter.nf_conntrack_tcp_timeout_established', '0086400').value).toBe(
      '86400',
    );
    expect(checkSysctl('net.netfilter.nf_conntrack_tcp_be_liberal', '1').value).toBe('1');
    expect(checkSysctl('net.ipv4.vs.conn_reuse_mode', '3').value).toBe('3');
    expect(findAllowedSysctl('net.netfilter.nf_conntrack_max')?.scope).toBe('init-only');
  });

  it('refuses keys not on the allowlist, naming the key in one line', () => {
    for (const key of [
      'net.ipv4.ip_forward',
      'kernel.panic',
      'net.netfilter.nf_conntrack_tcp_timeout_established.x',
      '../../etc/passwd',
      '',
    ]) {
      const err = oneLine(() => checkSysctl(key, '1'));
      expect(err.message).toMatch(/not on kdiag's allowlist/);
      if (key) expect(err.message).toContain(key.replaceAll('/', '.'));
    }
  });

  it('refuses values out of range, non-integers and non-booleans', () => {
    expect(
      oneLine(() => checkSysctl('net.netfilter.nf_conntrack_tcp_be_liberal', '2')).message,
    ).toMatch(/0 or 1/);
    expect(
      oneLine(() => checkSysctl('net.netfilter.nf_conntrack_tcp_timeout_established', '0')).message,
    ).toMatch(/out of range/);
    expect(
      oneLine(() => checkSysctl('net.netfilter.nf_conntrack_tcp_timeout_established', '2147484'))
        .message,
    ).toMatch(/out of range/);
    expect(oneLine(() => checkSysctl('net.ipv4.tcp_keepalive_time', '32768')).message).toMatch(
      /1\.\.32767/,
    );
    expect(oneLine(() => checkSysctl('net.ipv4.tcp_keepalive_probes', '128')).message).toMatch(
      /out of range/,
    );
    for (const bad of ['-1', '1.5', '1e3', '600 700', 'abc', '', '0x10', '99999999999']) {
      expect(() => checkSysctl('net.ipv4.tcp_keepalive_time', bad)).toThrow(UsageError);
    }
  });

  it('checks IPVS timeouts: 0 keeps, all zero is refused, ranges hold', () => {
    expect(checkIpvsTimeouts({ tcp: 7260, tcpfin: 0, udp: 0 })).toEqual({
      tcp: 7260,
      tcpfin: 0,
      udp: 0,
    });
    expect(() => checkIpvsTimeouts({ tcp: 0, tcpfin: 0, udp: 0 })).toThrow(/nothing to change/);
    expect(() => checkIpvsTimeouts({ tcp: -1, tcpfin: 0, udp: 0 })).toThrow(UsageError);
    expect(() => checkIpvsTimeouts({ tcp: 3_000_000, tcpfin: 0, udp: 0 })).toThrow(/out of range/);
  });

  it('notes kube-proxy overwrites and boot-time module order', () => {
    expect(
      notesForSysctl('net.netfilter.nf_conntrack_tcp_timeout_established', {
        node: true,
        persisted: true,
      }).join(' '),
    ).toMatch(/kube-proxy.*nf_conntrack is already loaded/s);
    expect(
      notesForSysctl('net.ipv4.tcp_keepalive_time', { node: false, persisted: false }),
    ).toEqual([]);
  });
});

describe('--change and --netns parsing', () => {
  it('parses sysctl and ipvs-timeout forms', () => {
    expect(parseChangeFlag('sysctl:net.ipv4.tcp_keepalive_time=600')).toEqual({
      kind: 'sysctl',
      key: 'net.ipv4.tcp_keepalive_time',
      value: '600',
    });
    expect(parseChangeFlag('ipvs-timeout:7260,0,0')).toEqual({
      kind: 'ipvs-timeout',
      tcp: 7260,
      tcpfin: 0,
      udp: 0,
    });
  });
  it('refuses other forms in one line', () => {
    for (const bad of [
      'net.ipv4.tcp_keepalive_time=600',
      'sysctl:=5',
      'sysctl:novalue',
      'ipvs-timeout:1,2',
      'ipvs-timeout:a,b,c',
      'iptables:-F',
    ]) {
      oneLine(() => parseChangeFlag(bad));
    }
  });
  it('accepts only plain netns names', () => {
    expect(targetFor(undefined)).toEqual({ kind: 'node' });
    expect(targetFor('kdiag-apply-1')).toEqual({ kind: 'netns', name: 'kdiag-apply-1' });
    for (const bad of ['../x', 'a/b', '', '..', 'x'.repeat(65), 'a b'])
      oneLine(() => targetFor(bad));
  });
});

describe('suggestions', () => {
  const base = {
    rank: 3,
    title: 'Raise the timeout',
    rationale: 'because',
    fixes: ['fm1.x:tcp a>b'],
    warnings: [],
  };
  it('turns a suggestion into a request and a reason (cause sentence from the finding)', async () => {
    const { requestOf, whyOfSuggestion } = await import('../../src/apply/resolve.js');
    const s = {
      ...base,
      id: 'node-ipvs-tcp',
      scope: 'ipvs' as const,
      commands: [],
      change: { kind: 'ipvs-timeout' as const, tcp: 7260, tcpfin: 0, udp: 0 },
    };
    expect(requestOf(s)).toEqual({ kind: 'ipvs-timeout', tcp: 7260, tcpfin: 0, udp: 0 });
    const finding = {
      id: 'fm1.x:tcp a>b',
      rule: 'r',
      fm: 'FM-2',
      severity: 'critical' as const,
      confidence: 'certain' as const,
      title: 't',
      cause: 'IPVS forgets idle flows after 900 s.',
      flows: [],
      evidence: [],
      suggestions: [],
      t: 0,
    };
    expect(whyOfSuggestion({ suggestion: s, findings: [finding] })).toEqual({
      via: 'suggestion',
      suggestion: 'node-ipvs-tcp',
      findings: ['fm1.x:tcp a>b'],
      cause: 'IPVS forgets idle flows after 900 s.',
    });
  });

  it('writes a kube-proxy patch file for --persist and never overwrites a different one', async () => {
    const { mkdtempSync, readFileSync, rmSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { writeKubeProxyPatch, kubeProxyPatchOf } =
      await import('../../src/apply/kube-proxy-patch.js');
    const s = {
      ...base,
      id: 'kube-proxy-conntrack',
      scope: 'kube-proxy' as const,
      commands: [
        { label: 'KubeProxyConfiguration', text: 'conntrack:\n  tcpEstablishedTimeout: 24h0m0s\n' },
        { label: 'restart', text: 'kubectl -n kube-system rollout restart daemonset kube-proxy' },
      ],
    };
    const dir = mkdtempSync(join(tmpdir(), 'kdiag-apply-kp-'));
    try {
      const { path, patch } = await writeKubeProxyPatch(s, dir);
      expect(path).toBe(join(dir, 'kdiag-kube-proxy-conntrack.yaml'));
      expect(readFileSync(path, 'utf8')).toMatch(
        /^# KubeProxyConfiguration change suggested by kdiag[^\n]*\n# Raise the timeout\nconntrack:\n  tcpEstablishedTimeout: 24h0m0s\n$/,
      );
      expect(patch.kubectl).toEqual([
        'kubectl -n kube-system rollout restart daemonset kube-proxy',
      ]);
      await writeKubeProxyPatch(s, dir); // same content: fine
      writeFileSync(path, 'mine\n');
      await expect(writeKubeProxyPatch(s, dir)).rejects.toThrow(/exists and differs/);
      expect(readFileSync(path, 'utf8')).toBe('mine\n');
      expect(kubeProxyPatchOf({ ...s, scope: 'node' })).toBeUndefined();
      expect(kubeProxyPatchOf({ ...s, commands: [s.commands[1]!] })).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
