// The one line of a failed tool's stderr that says why, for doctor: the OS's reason when the tool
// quotes one, else its last ERROR line; control characters stripped (the text is untrusted).
import { printable } from '../model/printable.js';

// bpftrace prints this on every run where it cannot raise the limit; it is never the cause.
const NOISE = /RLIMIT_MEMLOCK|^Attaching \d+ probes?/;
const CAUSE =
  /No such file or directory|Permission denied|Operation not permitted|not available|not supported|Protocol not available/i;

/**
 * The line of a tool's stderr that says why it failed: the OS's reason if one is there
 * (`open(/sys/kernel/tracing/kprobe_events): No such file or directory`), else its last ERROR line,
 * else its last line; control characters stripped, at most 160 characters.
 */
export function failureLine(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !NOISE.test(l) && !/^[~^ ]+$/.test(l));
  const pick =
    lines.find((l) => CAUSE.test(l) && !/^ERROR: Error attaching/.test(l)) ??
    [...lines].reverse().find((l) => l.startsWith('ERROR:')) ??
    lines[lines.length - 1] ??
    '';
  return oneLine(pick.replace(/^stdin:\d+:[\d-]+:\s*/, '').replace(/^ERROR:\s*/, ''));
}

/** Collapses whitespace, strips control characters, cuts at 160 characters. */
export function oneLine(s: string): string {
  const p = printable(s.replace(/\s+/g, ' ').trim());
  return p.length > 160 ? `${p.slice(0, 159)}…` : p;
}
