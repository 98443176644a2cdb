// One bpftrace program for several probes: the merged text (one END, no #! past the first line),
// and the routing of its output lines back to each probe by printf tag, with the kernel time.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mergeProbePrograms } from '../../src/parse/probes/program-merge.js';
import { PROBES } from '../../src/parse/probes/catalog.js';
import { kernelClock, printfTag, tagRoutes } from '../../src/sources/bpftrace-lines.js';
import { repoRoot } from './fixtures/build.mjs';

const text = (file: string): string => readFileSync(join(repoRoot, 'probes', file), 'utf8');

describe('mergeProbePrograms', () => {
  it('keeps every probe block and gathers the END bodies into one END', () => {
    const parts = PROBES.map((p) => ({ id: p.id, program: text(p.file) }));
    const m = mergeProbePrograms(parts);
    expect(m.errors).toEqual([]);
    expect(m.program.match(/^END\b/gm)).toHaveLength(1);
    expect(m.program).not.toMatch(/^#!/m);
    // every attach line of every probe is still there, as often as in the files
    const heads = (s: string): string[] => s.match(/^tracepoint:\S+/gm) ?? [];
    expect(heads(m.program).sort()).toEqual(parts.flatMap((p) => heads(p.program)).sort());
    // every clear() of every END survives, inside the one END block
    const endBlock = m.program.slice(m.program.search(/^END\b/m));
    for (const p of parts)
      for (const c of p.program.match(/clear\(@\w+\)/g) ?? []) expect(endBlock).toContain(c);
    // braces balance
    const opens = (m.program.match(/\{/g) ?? []).length;
    expect((m.program.match(/\}/g) ?? []).length).toBe(opens);
  });

  it('leaves a probe without END as it is, and refuses an unclosed END', () => {
    const ok = mergeProbePrograms([{ id: 'a', program: 'tracepoint:x:y { printf("a\\n"); }\n' }]);
    expect(ok.program).toContain('tracepoint:x:y { printf("a\\n"); }');
    expect(ok.program).not.toMatch(/^END/m);
    const bad = mergeProbePrograms([
      { id: 'a', program: 'tracepoint:x:y { }\nEND\n{\n  clear(@a);\n' },
      { id: 'b', program: 'tracepoint:x:z { }\n' },
    ]);
    expect(bad.errors).toEqual(['probe a: its END block has no closing brace']);
    expect(bad.program).toContain('tracepoint:x:z');
    expect(bad.program).not.toContain('tracepoint:x:y');
  });

  it('does not count braces inside strings or comments', () => {
    const m = mergeProbePrograms([
      {
        id: 'a',
        program:
          'tracepoint:x:y { printf("}\\n"); }\nEND\n{\n  // {{NETNS}} }\n  printf("{");\n  clear(@a);\n}\n',
      },
    ]);
    expect(m.errors).toEqual([]);
    expect(m.program).toMatch(/END\n\{\n {2}\/\/ a\n[\s\S]*clear\(@a\);\n\}\n$/);
  });
});

describe('bpftrace printf routing', () => {
  const drop =
    '{"type": "printf", "data": "drop.v1\\t1021717405213\\t3\\ttcp_v4_rcv\\t4026532533\\t4\\t6\\t10.0.0.2\\t8080\\t10.0.0.1\\t45316\\t24\\t1\\t2\\n"}';

  it('reads the tag and the kernel time of a printf line, nothing of other lines', () => {
    expect(printfTag(drop)).toEqual({ tag: 'drop.v1', ns: 1021717405213 });
    expect(printfTag('{"type": "attached_probes", "data": {"probes": 7}}')).toBeUndefined();
    expect(printfTag('{"type": "printf", "data": "x.v1\\tnot-a-number\\n"}')?.ns).toBeNaN();
  });

  it('sends each tag to the probe that prints it', () => {
    const r = tagRoutes(PROBES);
    expect(r.get('drop.v1')).toBe('bpftrace:trace_skb_drop');
    expect(r.get('ka.v1')).toBe('bpftrace:trace_tcp_state');
    expect(r.get('state.v1')).toBe('bpftrace:trace_tcp_state');
    expect(r.get('act.v1')).toBe('bpftrace:top_flow_activity');
  });

  it('turns kernel time into wall time with one offset, never later than now', () => {
    const k = kernelClock(() => 1_000_000);
    const off = k.describe().wallMinusKernelMs;
    expect(k.wallMs(5_000_000, 2e12)).toBe(Math.round(off + 5));
    expect(k.wallMs(5_000_000, off)).toBe(off);
    expect(k.wallMs(Number.NaN, 123)).toBe(123);
    expect(k.wallMs(0, 123)).toBe(123);
  });
});
