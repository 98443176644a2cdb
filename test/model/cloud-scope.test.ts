import { describe, expect, it } from 'vitest';
import { cidrContains, parseCidr, parseCloudSpec } from '../../src/model/cloud-scope.js';

const ok = (s: string) => {
  const r = parseCloudSpec(s);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};
const err = (s: string) => {
  const r = parseCloudSpec(s);
  if (r.ok) throw new Error(`${s} parsed`);
  return r.error;
};

describe('parseCloudSpec', () => {
  it('a bare preset takes its default timeout and scope', () => {
    expect(ok('aws-nat')).toMatchObject({
      preset: 'aws-nat',
      timeoutSec: 350,
      timeoutGiven: false,
      scope: { kind: 'external' },
      scopeGiven: false,
    });
    expect(ok('aws-nlb').scope).toEqual({ kind: 'ingress' });
    expect(ok('gcp-vpc').scope).toEqual({ kind: 'all' });
  });
  it('an alias names its preset', () => {
    expect(ok('aws-nat-gateway').preset).toBe('aws-nat');
    expect(ok('aws-eni-nitro').preset).toBe('aws-sg-nitro-v6');
  });
  it(':TIMEOUT overrides, @SCOPE narrows', () => {
    const v = ok('aws-nlb:600s@svc=shop/web');
    expect(v).toMatchObject({ preset: 'aws-nlb', timeoutSec: 600, timeoutGiven: true });
    expect(v.scope).toEqual({ kind: 'svc', namespace: 'shop', name: 'web' });
    expect(ok('azure-lb:1h30m').timeoutSec).toBe(5400);
    expect(ok('aws-nat@egress').scope).toEqual({ kind: 'external' });
    expect(ok('aws-nat@all').scope).toEqual({ kind: 'all' });
    const d = ok('gcp-nat@dst=203.0.113.0/24,2001:db8::/32').scope;
    expect(d.kind).toBe('dst');
    expect(d.kind === 'dst' ? d.cidrs.map((c) => c.bits) : []).toEqual([24, 32]);
  });
  it('haproxy has no default: the timeout must be given', () => {
    expect(err('haproxy')).toMatch(/needs a timeout: haproxy has no default/);
    expect(ok('haproxy:50s').timeoutSec).toBe(50);
  });
  it('says which part is wrong', () => {
    expect(err('nope')).toMatch(/names no preset \("nope"/);
    expect(err('aws-nat:5x')).toMatch(/bad timeout "5x"/);
    expect(err('aws-nat:0s')).toMatch(/bad timeout/);
    expect(err('aws-nat@dst=10.0.0.0/33')).toMatch(/bad CIDR "10.0.0.0\/33"/);
    expect(err('aws-nat@dst=999.1.1.1')).toMatch(/bad CIDR/);
    expect(err('aws-nat@svc=Shop')).toMatch(/bad Service "Shop"/);
    expect(err('aws-nat@sideways')).toMatch(/unknown scope "@sideways"/);
    expect(err('')).toMatch(/is empty/);
    expect(err('a'.repeat(300))).toMatch(/longer than 200/);
  });
});

describe('CIDRs', () => {
  it('contain their addresses and nothing else', () => {
    const c = parseCidr('10.1.0.0/16')!;
    expect(cidrContains(c, '10.1.255.3')).toBe(true);
    expect(cidrContains(c, '10.2.0.1')).toBe(false);
    expect(cidrContains(c, '::1')).toBe(false);
    const odd = parseCidr('192.168.0.128/25')!;
    expect(cidrContains(odd, '192.168.0.200')).toBe(true);
    expect(cidrContains(odd, '192.168.0.100')).toBe(false);
    const v6 = parseCidr('2001:db8::/32')!;
    expect(cidrContains(v6, '2001:db8:1::5')).toBe(true);
    expect(cidrContains(v6, '2001:db9::5')).toBe(false);
    expect(cidrContains(parseCidr('0.0.0.0/0')!, '8.8.8.8')).toBe(true);
    expect(parseCidr('1.2.3.4')?.bits).toBe(32);
    expect(parseCidr('1:2:3')).toBeUndefined();
    expect(parseCidr('1.2.3.4/')).toBeUndefined();
    expect(parseCidr('1.2.3.4/x')).toBeUndefined();
  });
});
