// collect --redact: one stand-in per address and name across every file, classes kept, and the
// analysis of a redacted bundle finds the same as of the original (modulo names).
import { createHmac } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { namesInBundle, redactFiles, Redactor } from '../../src/record/redact.js';
import { analyzeInput } from '../../src/services/analyze-input.js';
import { isPrivateAddr } from '../../src/model/cloud-presets.js';

const FIXTURES = new URL('../../fixtures/bundles/', import.meta.url).pathname;
const hash = (s: string): number =>
  createHmac('sha256', 'test-key').update(s).digest().readUInt32BE(0);
const NO_NAMES = { hosts: [], namespaces: [], pods: [], services: [], netns: [] };

function readBundle(name: string): Map<string, string> {
  const dir = join(FIXTURES, name);
  return new Map(
    readdirSync(dir)
      .filter((f) => f !== 'expected.json' && f !== 'README.md')
      .map((f) => [f, readFileSync(join(dir, f), 'utf8')]),
  );
}

describe('Redactor', () => {
  it('gives one address one stand-in everywhere, keeping its class', () => {
    const r = new Redactor(hash, NO_NAMES);
    const a = r.text('src=10.244.3.41 dst=10.96.92.5 sport=60210');
    const b = r.text('ESTAB 0 0 10.244.3.41:60210 10.96.92.5:3306');
    const [x, y] = a.match(/\d+\.\d+\.\d+\.\d+/g)!;
    expect(b).toBe(`ESTAB 0 0 ${x}:60210 ${y}:3306`);
    expect(x).not.toBe('10.244.3.41');
    expect(isPrivateAddr(x!)).toBe(true);
    const pub = r.text('dst=52.94.1.7')!.slice(4);
    expect(isPrivateAddr(pub)).toBe(false);
    expect(pub).not.toBe('52.94.1.7');
    expect(r.text('0.0.0.0:* 127.0.0.1:8080 169.254.169.254 255.255.255.255')).toBe(
      '0.0.0.0:* 127.0.0.1:8080 169.254.169.254 255.255.255.255',
    );
    // CIDRs in rules keep their mask; the address part maps like the same address elsewhere.
    expect(r.text('-d 10.96.92.5/32')).toBe(`-d ${y}/32`);
  });

  it('maps IPv6 (not times, MACs or versions) and v4-mapped tails like v4', () => {
    const r = new Redactor(hash, NO_NAMES);
    const v4 = r.text('10.1.2.3');
    expect(r.text('[::ffff:10.1.2.3]:443')).toBe(`[::ffff:${v4}]:443`);
    const ula = r.text('src=fd00:10:244::1f');
    expect(ula).toMatch(/^src=fd00::[0-9a-f]+:[0-9a-f]+$/);
    expect(r.text('fd00:10:244::1f')).toBe(ula.slice(4));
    expect(r.text('[::1]:53 [::]:22')).toBe('[::1]:53 [::]:22');
    const keep = 'on Thu Nov 23 07:03:50 2026 aa:bb:cc:dd:ee:ff v1.28.2 5.10.210-201.852';
    expect(r.text(keep)).toBe(keep);
  });

  it('never gives two addresses one stand-in', () => {
    const r = new Redactor(() => 7, NO_NAMES); // every hash collides
    const out = r.text('10.0.0.1 10.0.0.2 10.0.0.3').split(' ');
    expect(new Set(out).size).toBe(3);
  });

  it('replaces names as whole words, in pod labels and bundle file names', () => {
    const r = new Redactor(hash, {
      hosts: ['node-12.dc2.example.net', 'node-12'],
      namespaces: ['shop'],
      pods: ['web-6f7d8c9b5-zz7kq'],
      services: ['checkout'],
      netns: [],
    });
    const label = r.text('ss:sockets@pod_shop_web-6f7d8c9b5-zz7kq');
    expect(label).toMatch(/^ss:sockets@pod_ns-[0-9a-f]{6}_pod-[0-9a-f]{6}$/);
    expect(r.fileName('ss@pod_shop_web-6f7d8c9b5-zz7kq.txt')).toBe(
      `${label.replace('ss:sockets@', 'ss@')}.txt`,
    );
    expect(r.text('"hostname": "node-12.dc2.example.net"')).toMatch(/"node-[0-9a-f]{6}"/);
    expect(r.text('-m comment --comment "shop/checkout:http"')).toMatch(
      /"ns-[0-9a-f]{6}\/svc-[0-9a-f]{6}:http"/,
    );
    // Not inside longer words or keys.
    expect(r.text('shopping net.ipv4.conf.default.rp_filter')).toBe(
      'shopping net.ipv4.conf.default.rp_filter',
    );
  });

  it('finds the names in the bundle: owners, kube-proxy, rule comments', () => {
    const n = namesInBundle(readBundle('collected-ipvs'), 'kind-worker');
    expect(n.namespaces).toContain('shop');
    expect(n.pods).toEqual(expect.arrayContaining(['web-6f7d8c9b5-zz7kq', 'cache-0']));
    expect(n.hosts).toContain('kind-worker');
  });
});

describe('check on a redacted bundle', () => {
  const bundles = readdirSync(FIXTURES).filter(
    (n) => !n.includes('.') && readdirSync(join(FIXTURES, n)).includes('kdiag-collect.json'),
  );

  it.each(bundles)('%s: the same findings, suggestions and flows at risk', async (name) => {
    const files = readBundle(name);
    const host = (JSON.parse(files.get('kdiag-collect.json')!) as { hostname: string }).hostname;
    const { files: red, redactor } = redactFiles(files, host, hash);
    const dir = mkdtempSync(join(tmpdir(), `kdiag-redact-${name}-`));
    for (const [f, t] of red) writeFileSync(join(dir, f), t);
    const before = await analyzeInput(join(FIXTURES, name), {});
    const after = await analyzeInput(dir, {});
    const shape = (r: typeof before, rename: (s: string) => string = (s) => s) => ({
      findings: r.diagnosis.findings
        .map((f) => `${f.rule} ${f.fm} ${f.severity} ${f.confidence} flows=${f.flows.length}`)
        .sort(),
      // Ids may carry an address (node-flush-stale-udp-10.96.0.10-53): compared under stand-ins.
      suggestions: r.diagnosis.suggestions.map((s) => rename(s.id)).sort(),
      atRisk: r.diagnosis.flows.filter((f) => f.firstToForget !== undefined).length,
      flows: r.diagnosis.flows.length,
      records: r.records,
      issues: r.issueCount,
    });
    expect(shape(after)).toEqual(shape(before, (id) => redactor.text(id)));
    // The flows are the same flows under their stand-ins.
    expect(after.diagnosis.flows.map((f) => f.id).sort()).toEqual(
      before.diagnosis.flows.map((f) => redactor.text(f.id)).sort(),
    );
    // No private address of the original is left in any file.
    const all = [...red.values()].join('\n');
    for (const f of before.diagnosis.flows)
      for (const a of [f.client.addr, f.target.addr])
        if (!/^(127\.|0\.0\.0\.0|::1?$)/.test(a)) expect(all).not.toContain(`${a}:`);
    if (host.length >= 4) expect(all).not.toContain(host);
  });
});
