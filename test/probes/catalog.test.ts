// Always-on probe checks: every probes/*.bt has a catalog entry and a complete header whose
// Fields line matches the parser's field list; every captured fixture parses with zero issues.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROBES, probeById, probeBySourceId, allTracepoints } from '../../src/parse/probes/catalog.js';
import { parseProbeContext, type ProbeContext } from '../../src/parse/probes/context.js';
import { renderProbe, placeholderKinds } from '../../src/parse/probes/template.js';
import { parseRows } from '../../src/parse/result.js';

const ROOT = join(import.meta.dirname, '../..');
const PROBES_DIR = join(ROOT, 'probes');
const FIXTURES = join(ROOT, 'fixtures/tools/bpftrace');
const files = readdirSync(PROBES_DIR).filter((f) => f.endsWith('.bt')).sort();
const HEADER_KEYS = ['Shape', 'Attaches', 'Requires', 'Overhead', 'Fields', 'Example of usage', 'Reproduce', 'Caveats'];

function header(text: string): string {
  const lines = text.split('\n');
  const out: string[] = [];
  for (const l of lines) {
    if (l.startsWith('#!') || l.startsWith('//')) out.push(l);
    else break;
  }
  return out.join('\n');
}

function context(id: string): ProbeContext {
  const c = parseProbeContext(JSON.stringify(JSON.parse(readFileSync(join(FIXTURES, `${id}.context.json`), 'utf8'))));
  if (c.kind !== 'row') throw new Error(`bad context for ${id}`);
  return c.value;
}

describe('probe catalog', () => {
  it('has one entry per probes/*.bt and no entry without a file', () => {
    expect(files.length).toBeGreaterThanOrEqual(5);
    expect(PROBES.map((p) => p.file).sort()).toEqual(files);
    for (const p of PROBES) {
      expect(p.sourceId).toBe(`bpftrace:${p.id}`);
      expect(probeById(p.id)).toBe(p);
      expect(probeBySourceId(`${p.sourceId}@kdiag-x`)).toBe(p);
    }
    expect(probeById('nope')).toBeUndefined();
  });

  it('lists each tracepoint once', () => {
    const names = allTracepoints().map((t) => t.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toContain('skb:kfree_skb');
  });

  it.each(files)('%s has a complete header that matches the catalog', (file) => {
    const text = readFileSync(join(PROBES_DIR, file), 'utf8');
    const head = header(text);
    const spec = PROBES.find((p) => p.file === file)!;
    expect(head.startsWith('#!/usr/bin/env bpftrace')).toBe(true);
    expect(head).toContain(`// ${file}  `);
    for (const key of HEADER_KEYS) expect(head, `${file}: ${key}`).toMatch(new RegExp(`^// ${key}(:| \\()`, 'm'));
    expect(head).toMatch(new RegExp(`^// Shape:\\s+${spec.shape}\\b`, 'm'));
    for (const tp of spec.tracepoints) {
      expect(head, `${file} names tracepoint:${tp.name}`).toContain(`tracepoint:${tp.name}`);
      expect(text, `${file} attaches tracepoint:${tp.name}`).toMatch(new RegExp(`^tracepoint:${tp.name}\\b`, 'm'));
    }
    // Fields: `<tag> f1 f2 …` lines (continuations included) must equal the parser's field list.
    const fieldsBlock = head.slice(head.indexOf('// Fields:'), head.indexOf('\n// Template:') > 0 ? head.indexOf('\n// Template:') : undefined);
    for (const [tag, fields] of Object.entries(spec.tags)) {
      const m = new RegExp(`${tag.replace('.', '\\.')}[ \\t]+((?:[a-z_]+(?:[ \\t]+|\\n//[ \\t]+|$))+)`, 'm').exec(fieldsBlock);
      expect(m, `${file}: Fields line for ${tag}`).not.toBeNull();
      const names = m![1]!.replace(/\n\/\//g, ' ').trim().split(/\s+/).filter((w) => /^[a-z_]+$/.test(w));
      expect(names.slice(0, fields.length)).toEqual([...fields]);
      // every printf of this tag has one conversion per field
      let printfs = 0;
      for (const pm of text.matchAll(new RegExp(`printf\\("${tag.replace('.', '\\.')}((?:\\\\t%[a-z]+|\\\\t[a-z0-9]+)*)\\\\n"`, 'g'))) {
        expect(pm[1]!.split('\\t').length - 1, `${file} printf ${tag}`).toBe(fields.length);
        printfs++;
      }
      expect(printfs, `${file}: printf lines of ${tag}`).toBeGreaterThan(0);
    }
  });

  it.each(files)('%s uses only placeholders the templater fills', (file) => {
    const text = readFileSync(join(PROBES_DIR, file), 'utf8');
    const spec = PROBES.find((p) => p.file === file)!;
    const ctx = context(spec.id);
    const r = renderProbe(text, {
      ...(ctx.dropReasons ? { dropReasons: ctx.dropReasons } : {}),
      ...(ctx.rstReasons ? { rstReasons: { 0: 'NOT_SPECIFIED', 1: 'NO_SOCKET' } } : {}),
      fields: { 'tcp:tcp_send_reset': ['reason'], 'skb:kfree_skb': ['rx_sk'] },
      hz: 250,
      intervalSec: 1,
      netns: [],
    });
    expect(r.errors).toEqual([]);
    const body = r.program.split('\n').filter((l) => !l.trimStart().startsWith('//')).join('\n');
    expect(body).not.toMatch(/\{\{/);
    for (const k of placeholderKinds(body)) expect(['REASON', 'RST_REASON', 'FIELD_OR', 'HZ', 'INTERVAL_S', 'INTERVAL_NS', 'NETNS_IN']).toContain(k);
  });

  it.each(PROBES.map((p) => p.id))('fixture %s.ndjson parses with zero issues', (id) => {
    const spec = probeById(id)!;
    const ctx = context(id);
    const text = readFileSync(join(FIXTURES, `${id}.ndjson`), 'utf8');
    const r = parseRows(text, (l) => spec.parse(l, ctx));
    expect(r.issues).toEqual([]);
    expect(r.value[0]).toMatchObject({ kind: 'probe-status', status: 'attached' });
    expect(r.value.filter((e) => e.kind !== 'probe-status').length).toBeGreaterThan(0);
  });

  it.each(files)('%s: the Example lines in its header parse with zero issues', (file) => {
    const spec = PROBES.find((p) => p.file === file)!;
    const head = header(readFileSync(join(PROBES_DIR, file), 'utf8'));
    const examples = head.split('\n').filter((l) => l.startsWith('// {')).map((l) => l.slice(3));
    expect(examples.length).toBeGreaterThanOrEqual(2);
    const r = parseRows(examples.join('\n'), (l) => spec.parse(l, context(spec.id)));
    expect(r.issues).toEqual([]);
  });
});
