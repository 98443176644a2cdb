// Start-up of the single executable next to plain node: median wall time of N runs of each command
// (spawnSync, output discarded). Usage: node scripts/exe/startup.mjs [runs] (default 10).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const runs = Number(process.argv[2] ?? 10);
const exe = new URL('../../dist-exe/kdiag', import.meta.url).pathname;
const bin = new URL('../../bin/kdiag.js', import.meta.url).pathname;
const commands = [
  ['node -e 0', process.execPath, ['-e', '0']],
  ['dist-exe/kdiag --version', exe, ['--version']],
  ['dist-exe/kdiag --help', exe, ['--help']],
  ['node bin/kdiag.js --version', process.execPath, [bin, '--version']],
  ['node bin/kdiag.js --help', process.execPath, [bin, '--help']],
];

// CPU time of waited-for children (cutime + cstime, in USER_HZ ticks of 10 ms): wall time on a
// loaded machine mostly measures the queue; the CPU a start-up burns does not.
function childCpuMs() {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) * 10;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const times = new Map(commands.map(([name]) => [name, []]));
const cpu = new Map(commands.map(([name]) => [name, 0]));
// Interleaved, so a burst of load on a shared machine hits every command alike.
for (let i = 0; i < runs; i++) {
  for (const [name, file, args] of commands) {
    const c0 = childCpuMs();
    const t0 = process.hrtime.bigint();
    const r = spawnSync(file, args, { stdio: 'ignore' });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    cpu.set(name, cpu.get(name) + childCpuMs() - c0);
    if (r.status !== 0) throw new Error(`${name} exited ${r.status}`);
    times.get(name).push(ms);
  }
}
const base = median(times.get('node -e 0'));
const baseCpu = cpu.get('node -e 0');
console.log(`${'command'.padEnd(28)} ${'wall median'.padStart(11)}  ratio  ${'CPU mean'.padStart(8)}  ratio`);
for (const [name, ms] of times) {
  const c = cpu.get(name);
  console.log(`${name.padEnd(28)} ${median(ms).toFixed(1).padStart(8)} ms  ${(median(ms) / base).toFixed(2)}x  ${(c / runs).toFixed(0).padStart(5)} ms  ${(c / baseCpu).toFixed(2)}x`);
}
