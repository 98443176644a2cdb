// Pure parts of the lab: the kube-proxy ruleset text and the conntrack event reader (no root).
import { describe, expect, it } from 'vitest';
import { parseCtEventLine } from '../../src/lab/ct-events.js';
import {
  ADDR,
  CHAINS,
  backendOf,
  kubeProxyRuleset,
  middleboxRuleset,
  svcChainRestore,
} from '../../src/lab/topology.js';

describe('kube-proxy ruleset', () => {
  it('uses kube-proxy chain names, comments, statistic and DNAT', () => {
    const text = kubeProxyRuleset({ dropInvalid: false });
    expect(CHAINS.svc).toMatch(/^KUBE-SVC-[A-Z2-7]{16}$/);
    expect(CHAINS.sep.be1).toMatch(/^KUBE-SEP-[A-Z2-7]{16}$/);
    expect(CHAINS.sep.be1).not.toBe(CHAINS.sep.be2);
    expect(text).toContain(
      `-A KUBE-SERVICES -d 203.0.113.10/32 -p tcp -m comment --comment "default/web:http cluster IP" -m tcp --dport 80 -j ${CHAINS.svc}`,
    );
    expect(text).toContain('-m statistic --mode random --probability 0.50000000000');
    expect(text).toContain(
      `-A ${CHAINS.sep.be1} -p tcp -m comment --comment "default/web:http" -m tcp -j DNAT --to-destination 198.51.100.11:8080`,
    );
    expect(text).toContain('-j MASQUERADE --random-fully');
    expect(text).not.toContain('--ctstate INVALID -j DROP');
    expect(kubeProxyRuleset({ dropInvalid: true })).toContain(
      '-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP',
    );
  });

  it('rewrites only the KUBE-SVC chain, with one endpoint and no statistic', () => {
    const text = svcChainRestore(['be2']);
    expect(text.startsWith('*nat\n')).toBe(true);
    expect(text).toContain(`:${CHAINS.svc} - [0:0]`);
    expect(text).toContain(`-j ${CHAINS.sep.be2}`);
    expect(text).not.toContain(CHAINS.sep.be1);
    expect(text).not.toContain('statistic');
  });

  it('builds the middlebox idle timer only when asked', () => {
    expect(middleboxRuleset(undefined)).not.toContain('recent');
    const on = middleboxRuleset(2);
    expect(on).toContain('--update --seconds 2 --name idle-nat --rsource -j ACCEPT');
    expect(on).toContain('--rcheck --name idle-nat --rdest -j DROP');
  });

  it('maps addresses to backends', () => {
    expect(backendOf('198.51.100.12:8080')).toBe('be2');
    expect(backendOf(ADDR.be1)).toBe('be1');
    expect(backendOf('203.0.113.10')).toBeUndefined();
  });
});

describe('parseCtEventLine', () => {
  it('reads an idle-expiry DESTROY (no timeout) and a pickup NEW [UNREPLIED]', () => {
    const d = parseCtEventLine(
      '[1795407467.064126]\t[DESTROY] tcp      6 ESTABLISHED src=10.0.0.1 dst=10.96.0.10 sport=37818 dport=80 src=10.0.0.2 dst=10.0.0.1 sport=8080 dport=37818 [ASSURED]',
    );
    expect(d).toMatchObject({
      type: 'DESTROY',
      timeout: undefined,
      state: 'ESTABLISHED',
      unreplied: false,
      t: 1795407467064,
    });
    expect(d?.orig).toEqual({ src: '10.0.0.1', dst: '10.96.0.10', sport: 37818, dport: 80 });
    const n = parseCtEventLine(
      '[1795407475.478983]\t    [NEW] tcp      6 5 ESTABLISHED src=10.0.0.1 dst=10.96.0.10 sport=37818 dport=80 [UNREPLIED] src=10.0.0.3 dst=10.0.0.1 sport=8081 dport=37818',
    );
    expect(n).toMatchObject({ type: 'NEW', timeout: 5, state: 'ESTABLISHED', unreplied: true });
    expect(n?.reply?.src).toBe('10.0.0.3');
  });

  it('reads a status-only UPDATE (no state word) and rejects other lines', () => {
    const u = parseCtEventLine(
      '[1795407441.009041]\t [UPDATE] tcp      6 300 src=10.0.0.1 dst=10.96.0.10 sport=42766 dport=80 src=10.0.0.2 dst=10.0.0.1 sport=8080 dport=42766',
    );
    expect(u).toMatchObject({ type: 'UPDATE', timeout: 300, state: undefined });
    expect(
      parseCtEventLine('conntrack v1.4.7 (conntrack-tools): 3 flow events have been shown.'),
    ).toBeUndefined();
    expect(
      parseCtEventLine('[1.2]\t    [NEW] udp      17 30 src=1.1.1.1 dst=2.2.2.2 sport=1 dport=2'),
    ).toBeUndefined();
  });
});
