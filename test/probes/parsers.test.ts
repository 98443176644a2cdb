// Probe parsers, tracefs format parsing and templating, on real and saved inputs; success and failure.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTraceFormat, parsePrintSymbolic } from '../../src/parse/tracefs-format.js';
import { renderProbe } from '../../src/parse/probes/template.js';
import { quadValue } from '../../src/parse/ip-text.js';
import { parseSkbDropLine } from '../../src/parse/probes/trace-skb-drop.js';
import { parseTcpResetLine } from '../../src/parse/probes/trace-tcp-reset.js';
import { parseTcpStateLine } from '../../src/parse/probes/trace-tcp-state.js';
import { parseTcpRetransLine } from '../../src/parse/probes/trace-tcp-retrans.js';
import { parseFlowActivityLine } from '../../src/parse/probes/top-flow-activity.js';
import { emptyProbeContext, parseProbeContext, type ProbeContext } from '../../src/parse/probes/context.js';
import { parseEnvelope, parseProbeStderr } from '../../src/parse/probes/envelope.js';
import { createProbeRecordReader } from '../../src/engine/probe-records.js';

const ROOT = join(import.meta.dirname, '../..');
const TRACEFS = join(ROOT, 'fixtures/tools/tracefs');
const saved = (k: string, f: string) => readFileSync(join(TRACEFS, k, f), 'utf8');
const printf = (data: string) => JSON.stringify({ type: 'printf', data: `${data}\n` });
const ctx: ProbeContext = { v: 1, probe: 't', dropReasons: { 3: 'NO_SOCKET', 12: 'NETFILTER_DROP' }, rstReasons: { 1: 'NO_SOCKET', 15: 'TCP_KEEPALIVE_TIMEOUT' } };

describe('tracefs format files', () => {
  it('reads the 6.18 kfree_skb format: fields and the drop-reason table', () => {
    const r = parseTraceFormat(saved('6.18', 'skb_kfree_skb.format'));
    expect(r.issues).toEqual([]);
    expect(r.value.name).toBe('kfree_skb');
    expect(r.value.fields.filter((f) => !f.common).map((f) => f.name)).toEqual(['skbaddr', 'location', 'rx_sk', 'protocol', 'reason']);
    expect(r.value.fields.find((f) => f.name === 'reason')).toMatchObject({ type: 'enum skb_drop_reason', offset: 36, size: 4, signed: false });
    expect(r.value.symbols.reason?.[3]).toBe('NO_SOCKET');
    expect(r.value.symbols.reason?.[12]).toBe('NETFILTER_DROP');
    expect(r.value.symbols.reason?.[41]).toBe('TCP_OLD_SEQUENCE');
  });

  it('reads tcp_send_reset 6.18 (reason table, symbolic states skipped) and 6.1 (no reason)', () => {
    const new_ = parseTraceFormat(saved('6.18', 'tcp_tcp_send_reset.format'));
    expect(new_.issues).toEqual([]);
    expect(new_.value.fields.find((f) => f.name === 'saddr')).toMatchObject({ type: '__u8', arrayLength: 28 });
    expect(new_.value.symbols.reason?.[15]).toBe('TCP_KEEPALIVE_TIMEOUT');
    expect(new_.value.symbols.state).toBeUndefined();
    const old = parseTraceFormat(saved('6.1', 'tcp_tcp_send_reset.format'));
    expect(old.issues).toEqual([]);
    expect(old.value.fields.map((f) => f.name)).not.toContain('reason');
    expect(old.value.symbols.family).toEqual({ 2: 'AF_INET', 10: 'AF_INET6' });
  });

  it('maps the same name to different numbers on 6.1 and 6.18', () => {
    const a = parseTraceFormat(saved('6.1', 'skb_kfree_skb.format')).value.symbols.reason!;
    const b = parseTraceFormat(saved('6.18', 'skb_kfree_skb.format')).value.symbols.reason!;
    expect(a[7]).toBe('NETFILTER_DROP');
    expect(b[12]).toBe('NETFILTER_DROP');
  });

  it('reads a 5.10 kfree_skb without a reason field', () => {
    const r = parseTraceFormat(saved('5.10', 'skb_kfree_skb.format'));
    expect(r.issues).toEqual([]);
    expect(r.value.symbols).toEqual({});
  });

  it('reports bad lines and missing parts instead of throwing', () => {
    const r = parseTraceFormat('ID: x\n\tfield:garbage\nwhat\n');
    expect(r.issues.map((i) => i.code)).toEqual(['tracefs.bad-id', 'tracefs.bad-field', 'tracefs.unknown-line', 'tracefs.no-name', 'tracefs.no-print-fmt']);
    expect(parsePrintSymbolic('__print_symbolic(REC->x, { 1, "A" }')).toEqual({ x: { 1: 'A' } });
  });

  it.skipIf(!existsSync('/sys/kernel/tracing/events/skb/kfree_skb/format'))('parses every live format file kdiag uses with zero issues', () => {
    for (const e of ['skb/kfree_skb', 'tcp/tcp_send_reset', 'tcp/tcp_receive_reset', 'tcp/tcp_retransmit_skb', 'sock/inet_sock_set_state', 'tcp/tcp_probe', 'tcp/tcp_destroy_sock']) {
      let text: string;
      try {
        text = readFileSync(`/sys/kernel/tracing/events/${e}/format`, 'utf8');
      } catch {
        continue; // not root
      }
      const r = parseTraceFormat(text);
      expect(r.issues, e).toEqual([]);
      expect(r.value.fields.length, e).toBeGreaterThan(4);
    }
  });
});

describe('probe templating', () => {
  const drop = parseTraceFormat(saved('6.1', 'skb_kfree_skb.format')).value.symbols.reason!;
  const table = Object.fromEntries(Object.entries(drop));

  it('fills reasons with this kernel numbers and never-matching values for missing names', () => {
    const r = renderProbe('/args->reason == {{REASON:NETFILTER_DROP}} || args->reason == {{REASON:TCP_OLD_SEQUENCE}}/\n// {{REASON:<NAME>}} stays', { dropReasons: table });
    expect(r.errors).toEqual([]);
    expect(r.program).toBe('/args->reason == 7 || args->reason == 0xffffffff/\n// {{REASON:<NAME>}} stays');
    expect(r.missing).toEqual(['REASON:TCP_OLD_SEQUENCE']);
  });

  it('uses FIELD_OR fallbacks on kernels without the field and fills HZ, interval, netns', () => {
    const r = renderProbe('{{FIELD_OR:tcp:tcp_send_reset:reason:-1}} {{HZ}} {{INTERVAL_NS}} {{NETNS_IN:$netns}}', { fields: { 'tcp:tcp_send_reset': ['skbaddr'] }, hz: 250, intervalSec: 2, netns: [4026532533] });
    expect(r.program).toBe('-1 250 2000000000 ($netns == 4026532533)');
    expect(r.missing).toEqual(['FIELD:tcp:tcp_send_reset:reason']);
  });

  it('refuses unknown placeholders, a missing table and an unknown HZ', () => {
    expect(renderProbe('{{BOGUS}}', {}).errors).toHaveLength(1);
    expect(renderProbe('{{REASON:NO_SOCKET}}', {}).errors[0]).toMatch(/no drop reason table/);
    expect(renderProbe('{{HZ}}', {}).errors[0]).toMatch(/HZ is unknown/);
    expect(renderProbe('{{NETNS_IN:$netns}}', { netns: [-1] }).errors).toHaveLength(1);
    expect(renderProbe('{{NETNS_IN:$netns}}', { netns: [0] }).errors).toHaveLength(1);
    expect(renderProbe('{{NETNS_IN}}', { netns: [1] }).errors[0]).toMatch(/expected NETNS_IN:\$variable/);
  });

  it('filters on a set of netns inodes, or on none', () => {
    expect(renderProbe('if ({{NETNS_IN:$netns}}) {', {}).program).toBe('if (1) {');
    expect(renderProbe('if ({{NETNS_IN:$netns}}) {', { netns: [] }).program).toBe('if (1) {');
    expect(renderProbe('if ({{NETNS_IN:$ns}}) {', { netns: [4026532533, 4026532601] }).program).toBe(
      'if (($ns == 4026532533 || $ns == 4026532601)) {',
    );
  });
});

describe('probe line parsers', () => {
  it('reads the bpftrace envelope types', () => {
    expect(parseEnvelope('{"type": "attached_probes", "data": {"probes": 2}}')).toMatchObject({ kind: 'row', value: { kind: 'status', event: { status: 'attached', count: 2 } } });
    expect(parseEnvelope('{"type": "lost_events", "data": {"events": 9}}')).toMatchObject({ kind: 'row', value: { event: { status: 'lost', count: 9 } } });
    expect(parseEnvelope('{"type": "map", "data": {"@x": {}}}')).toMatchObject({ kind: 'row', value: { event: { status: 'info' } } });
    expect(parseEnvelope('')).toEqual({ kind: 'skip' });
    expect(parseEnvelope('Attaching 1 probe...')).toMatchObject({ kind: 'issue', code: 'probe.not-json' });
    expect(parseEnvelope('{"type": "printf"')).toMatchObject({ kind: 'issue', code: 'probe.not-json' });
    expect(parseEnvelope('{"data": 1}')).toMatchObject({ kind: 'issue', code: 'probe.bad-envelope' });
    expect(parseEnvelope(`{"type":"printf","data":"${'x'.repeat(70000)}"}`)).toMatchObject({ kind: 'issue', code: 'probe.too-long' });
  });

  it('names drop reasons from the context and keeps TCP details', () => {
    const out = parseSkbDropLine(printf('drop.v1\t10\t3\ttcp_v4_rcv\t4026532533\t4\t6\t10.0.0.2\t8080\t10.0.0.1\t45316\t24\t1\t2'), ctx);
    expect(out).toEqual({ kind: 'row', value: { kind: 'drop', tsNs: 10, netns: 4026532533, reason: 'NO_SOCKET', location: 'tcp_v4_rcv', tuple: { proto: 'tcp', saddr: '10.0.0.2', sport: 8080, daddr: '10.0.0.1', dport: 45316, saddr4: 0x0a000002, daddr4: 0x0a000001 }, tcpFlags: 24, seq: 1, ack: 2 } });
    const udp = parseSkbDropLine(printf('drop.v1\t10\t99\tnf_hook_slow\t0\t6\t17\t2001:db8::1\t53\t2001:db8::2\t5353\t0\t0\t0'), ctx);
    expect(udp).toMatchObject({ kind: 'row', value: { reason: 'UNKNOWN(99)', tuple: { proto: 'udp', saddr: '2001:db8::1' } } });
    expect(udp.kind === 'row' && 'tcpFlags' in udp.value).toBe(false);
  });

  it.each([
    ['drop.v1\t10\t3\ttcp_v4_rcv', 'probe.bad-fields'],
    ['drop.v1\tx\t3\ttcp_v4_rcv\t0\t4\t6\t10.0.0.2\t1\t10.0.0.1\t2\t0\t0\t0', 'probe.bad-number'],
    ['drop.v1\t1\t3\ttcp_v4_rcv\t0\t4\t6\t10.0.0.999x\t1\t10.0.0.1\t2\t0\t0\t0', 'probe.bad-tuple'],
    ['drop.v1\t1\t3\ttcp_v4_rcv\t0\t4\t6\t10.0.0.2\t70000\t10.0.0.1\t2\t0\t0\t0', 'probe.bad-tuple'],
    ['drop.v2\t1', 'probe.unsupported-version'],
    ['rst.v1\t1', 'probe.unknown-tag'],
  ])('drop parser: %j → %s', (data, code) => {
    expect(parseSkbDropLine(printf(data), ctx)).toMatchObject({ kind: 'issue', code });
  });

  it('reads resets: reason named on >= 6.10, absent when -1; received ones come from the socket', () => {
    expect(parseTcpResetLine(printf('rst.v1\t5\tsent\tpassive\t1\t0\t7\t4\t10.0.0.2\t8080\t10.0.0.1\t45316'), ctx)).toMatchObject({ kind: 'row', value: { kind: 'reset', direction: 'sent', mode: 'passive', reason: 'NO_SOCKET', state: 'UNKNOWN' } });
    const rx = parseTcpResetLine(printf('rst.v1\t5\treceived\tactive\t-1\t1\t7\t4\t10.0.0.1\t45316\t10.0.0.2\t8080'), ctx);
    expect(rx).toMatchObject({ kind: 'row', value: { direction: 'received', state: 'ESTABLISHED' } });
    expect(rx.kind === 'row' && 'reason' in rx.value).toBe(false);
    expect(parseTcpResetLine(printf('rst.v1\t5\tsideways\tactive\t-1\t1\t7\t4\t10.0.0.1\t1\t10.0.0.2\t2'), ctx)).toMatchObject({ kind: 'issue', code: 'probe.bad-field' });
  });

  it('reads state changes and keepalive setsockopt lines with their keepalive values', () => {
    const st = parseTcpStateLine(printf('state.v1\t9\t2\t1\t7\t4\t10.0.0.1\t40312\t10.0.0.2\t8080\t1\t3000\t2000\t3'), emptyProbeContext('x'));
    expect(st).toMatchObject({ kind: 'row', value: { kind: 'state', oldState: 'SYN_SENT', newState: 'ESTABLISHED', trigger: 'state-change', keepalive: { enabled: true, idleSec: 3, intervalSec: 2, probes: 3 } } });
    const ka = parseTcpStateLine(printf('ka.v1\t9\t4242\t6\t4\t1\t7\t4\t10.0.0.1\t40312\t10.0.0.2\t8080\t1\t30000\t0\t0'), emptyProbeContext('x'));
    expect(ka).toMatchObject({ kind: 'row', value: { trigger: 'setsockopt', option: 'TCP_KEEPIDLE', pid: 4242, oldState: 'ESTABLISHED', keepalive: { idleSec: 30, intervalSec: 0 } } });
    expect(parseTcpStateLine(printf('state.v1\t9\t2\t1\t7\t4\t10.0.0.1\t1\t10.0.0.2\t2\t2\t0\t0\t0'), ctx)).toMatchObject({ kind: 'issue', code: 'probe.bad-keepalive' });
  });

  it('reads retransmit and activity summaries, and rejects a bad final flag', () => {
    expect(parseTcpRetransLine(printf('retrans.v1\t9\t4\t1\t7\t4\t10.0.0.2\t8081\t10.0.0.2\t58616\t1'), ctx)).toMatchObject({ kind: 'row', value: { kind: 'retransmit', count: 4, final: true, state: 'ESTABLISHED' } });
    expect(parseFlowActivityLine(printf('act.v1\t9\t20\t7\t4\t10.0.0.2\t8084\t10.0.0.2\t52166\t0'), ctx)).toMatchObject({ kind: 'row', value: { kind: 'activity', lastNs: 9, packets: 20, final: false } });
    expect(parseFlowActivityLine(printf('act.v1\t9\t20\t7\t4\t10.0.0.2\t8084\t10.0.0.2\t52166\t2'), ctx)).toMatchObject({ kind: 'issue', code: 'probe.bad-field' });
  });

  it('reads the begin context and refuses a bad one', () => {
    expect(parseProbeContext('{"v":1,"probe":"p","hz":250,"dropReasons":{"3":"NO_SOCKET"}}')).toMatchObject({ kind: 'row', value: { hz: 250, dropReasons: { 3: 'NO_SOCKET' } } });
    expect(parseProbeContext('{"v":2,"probe":"p"}')).toMatchObject({ kind: 'issue', code: 'probe.bad-context' });
    expect(parseProbeContext('nope')).toMatchObject({ kind: 'issue', code: 'probe.bad-context' });
  });

  it('replays a record stream: begin context, stdout lines, stderr, end', () => {
    const reader = createProbeRecordReader('bpftrace:trace_skb_drop@kdiag-a')!;
    const src = 'bpftrace:trace_skb_drop';
    expect(reader.read({ t: 1, src, k: 'begin', line: JSON.stringify({ v: 1, probe: 'trace_skb_drop', dropReasons: { 12: 'NETFILTER_DROP' } }) })).toEqual({ kind: 'skip' });
    expect(reader.read({ t: 2, src, k: 'err', line: 'ERROR: Unknown error -1: couldn\'t set RLIMIT_MEMLOCK for bpftrace.' })).toMatchObject({ kind: 'row', value: { status: 'info' } });
    expect(reader.read({ t: 3, src, line: printf('drop.v1\t1\t12\tnft_do_chain\t0\t4\t6\t10.0.0.2\t1\t10.0.0.1\t2\t2\t0\t0') })).toMatchObject({ kind: 'row', value: { reason: 'NETFILTER_DROP' } });
    expect(reader.read({ t: 4, src, k: 'end', line: 'exit 0' })).toMatchObject({ kind: 'row', value: { status: 'info' } });
    expect(createProbeRecordReader('conntrack:events')).toBeUndefined();
    expect(parseProbeStderr('ERROR: Could not resolve symbol')).toMatchObject({ kind: 'row', value: { status: 'error' } });
  });
});

describe('probe tuple addresses as numbers', () => {
  it('reads the int32 of a canonical dotted quad only', () => {
    expect(quadValue('10.0.0.1', 0, 8)).toBe(0x0a000001);
    expect(quadValue('x255.255.255.255y', 1, 16)).toBe(-1);
    expect(quadValue('192.168.0.1', 0, 11)).toBe(0xc0a80001 | 0);
    expect(quadValue('0.0.0.0', 0, 7)).toBe(0);
    for (const bad of ['010.0.0.1', '10.0.0.00', '256.1.1.1', '1.2.3.999']) expect(quadValue(bad, 0, bad.length), bad).toBeUndefined();
  });
});
