// Joins the templated text of several probes into one bpftrace program, so that one bpftrace
// process compiles and attaches them all (one LLVM, one BTF parse: ~115 MB and seconds each when
// they ran apart). bpftrace refuses a second END block ("More than one END probe defined"), so the
// END bodies are gathered into one; a #! line is only valid as a file's first line. Everything else
// is kept in order: the probes' map names are distinct (@act_, @rtx_, @ka_), and two blocks on the
// same tracepoint (tcp_destroy_sock) are two BPF programs, as in separate processes.

export interface ProbeProgramPart {
  readonly id: string;
  /** The probe's text after renderProbe (no placeholder left). */
  readonly program: string;
}

export interface MergedProgram {
  readonly program: string;
  /** One message per part the merger could not read (unbalanced braces): that part is left out. */
  readonly errors: readonly string[];
}

/** Offset just past the `}` closing the `{` at `open`, skipping `//` comments; -1 if unbalanced. */
function blockEnd(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 47 /* / */ && text.charCodeAt(i + 1) === 47) {
      const nl = text.indexOf('\n', i);
      if (nl === -1) return -1;
      i = nl;
      continue;
    }
    if (c === 34 /* " */) {
      // printf formats hold no braces today; a string is skipped whole so one never miscounts
      let j = i + 1;
      while (j < text.length && text.charCodeAt(j) !== 34) j += text.charCodeAt(j) === 92 ? 2 : 1;
      i = j;
      continue;
    }
    if (c === 123 /* { */) depth++;
    else if (c === 125 /* } */) {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

const END_HEAD = /^END[ \t]*\r?\n?[ \t]*\{/m;

/** Splits one probe's text into its program without END and the END body (inside the braces). */
function splitEnd(text: string): { rest: string; end: string } | string {
  const body = text
    .split('\n')
    .filter((l) => !l.startsWith('#!'))
    .join('\n');
  const m = END_HEAD.exec(body);
  if (!m) return { rest: body, end: '' };
  const open = m.index + m[0].length - 1;
  const close = blockEnd(body, open);
  if (close === -1) return 'its END block has no closing brace';
  return {
    rest: body.slice(0, m.index) + body.slice(close),
    end: body.slice(open + 1, close - 1),
  };
}

/** One program running every part: each part's probes in turn, then one END with their END bodies. */
export function mergeProbePrograms(parts: readonly ProbeProgramPart[]): MergedProgram {
  const errors: string[] = [];
  const bodies: string[] = [];
  const ends: string[] = [];
  for (const p of parts) {
    const s = splitEnd(p.program);
    if (typeof s === 'string') {
      errors.push(`probe ${p.id}: ${s}`);
      continue;
    }
    bodies.push(`// ---- probe ${p.id} ----\n${s.rest.trim()}\n`);
    if (s.end.trim() !== '') ends.push(`  // ${p.id}\n${s.end.replace(/^\n+|\s+$/g, '')}\n`);
  }
  const end = ends.length > 0 ? `\nEND\n{\n${ends.join('')}}\n` : '';
  return { program: `${bodies.join('\n')}${end}`, errors };
}
