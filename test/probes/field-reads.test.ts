// Compile time of the probes: bpftrace 0.17 re-reads the kernel's available_events list (~2,300
// lines) about 20 times for every `args->` in a program while it compiles, the largest part of
// kdiag trace's start-up. Each probe block reads each tracepoint field once, into a variable;
// this keeps a second read of the same field from creeping back in.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const PROBES_DIR = join(import.meta.dirname, '../../probes');
const files = readdirSync(PROBES_DIR)
  .filter((f) => f.endsWith('.bt'))
  .sort();

/** Each probe block's code (comments dropped), keyed by its attach line and position. */
function blocks(text: string): { head: string; code: string }[] {
  const out: { head: string; code: string }[] = [];
  let cur: { head: string; lines: string[] } | undefined;
  for (const line of text.split('\n')) {
    const code = line.replace(/\/\/.*$/, '');
    if (/^(tracepoint|kprobe|kfunc|interval|BEGIN|END)\b/.test(code)) {
      if (cur) out.push({ head: cur.head, code: cur.lines.join('\n') });
      cur = { head: `${code.trim()} (line ${out.length + 1})`, lines: [] };
      continue;
    }
    cur?.lines.push(code);
  }
  if (cur) out.push({ head: cur.head, code: cur.lines.join('\n') });
  return out;
}

/** Fields read more than once in one block, as `field ×n`; templates count as reads. */
function repeatedFieldReads(code: string): string[] {
  const counts = new Map<string, number>();
  const reads = [
    ...code.matchAll(/args->(\w+)/g),
    ...code.matchAll(/\{\{FIELD_OR:[^:}]+:[^:}]+:(\w+):[^}]*\}\}/g),
  ];
  for (const m of reads) counts.set(m[1]!, (counts.get(m[1]!) ?? 0) + 1);
  return [...counts].filter(([, n]) => n > 1).map(([f, n]) => `${f} ×${n}`);
}

describe('tracepoint field reads in probes/*.bt', () => {
  it('finds the probe files', () => {
    expect(files.length).toBeGreaterThanOrEqual(5);
  });

  it.each(files)('%s reads each field at most once per probe block', (file) => {
    const text = readFileSync(join(PROBES_DIR, file), 'utf8');
    const found = blocks(text);
    expect(found.length).toBeGreaterThan(0);
    const repeated = found
      .map((b) => ({ head: b.head, repeated: repeatedFieldReads(b.code) }))
      .filter((b) => b.repeated.length > 0);
    expect(repeated).toEqual([]);
  });

  it('counts a field read twice, including through a template', () => {
    expect(repeatedFieldReads('$a = args->sport; printf("%d", args->sport);')).toEqual([
      'sport ×2',
    ]);
    expect(
      repeatedFieldReads('$r = {{FIELD_OR:tcp:tcp_send_reset:reason:-1}}; $s = args->reason;'),
    ).toEqual(['reason ×2']);
    expect(repeatedFieldReads('$a = args->saddr; $b = args->saddr_v6;')).toEqual([]);
  });
});

describe('conditions around templates', () => {
  // bpftrace wants `if (…)`; a template that renders to `1` or `($netns == A || …)` must sit inside
  // the parentheses (a merge once left `if {{NETNS_IN:$netns}} {`, which bpftrace refuses).
  it.each(files)('%s parenthesises every if condition', (f) => {
    const code = readFileSync(join(PROBES_DIR, f), 'utf8').replace(/\/\/.*$/gm, '');
    const bare = [...code.matchAll(/\bif\s+(?!\()[^\n]*/g)].map((m) => m[0].trim());
    expect(bare).toEqual([]);
  });
});
