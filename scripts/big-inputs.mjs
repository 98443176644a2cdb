#!/usr/bin/env node
// Writes one bundle folder per bundle file kind, each with a 10^6-line file, for measuring the
// readers' time and memory (docs/limits.md): `node scripts/big-inputs.mjs OUT_DIR [LINES]`.
// The inputs are generated, never committed.
import { mkdirSync, writeFileSync, createWriteStream } from 'node:fs';
import { join } from 'node:path';

const out = process.argv[2];
const n = Number(process.argv[3] ?? 1_000_000);
if (!out || !Number.isInteger(n) || n < 1) {
  process.stderr.write('usage: node scripts/big-inputs.mjs OUT_DIR [LINES]\n');
  process.exit(2);
}

const ip = (i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
const kinds = {
  'conntrack-L.txt': (i) => `ipv4     2 tcp      6 86369 ESTABLISHED src=${ip(i)} dst=10.96.45.12 sport=${1024 + (i % 60000)} dport=80 src=10.244.2.5 dst=${ip(i)} sport=8080 dport=${1024 + (i % 60000)} [ASSURED] mark=0 use=1 id=${i}`,
  'iptables-save.txt': (i) => (i === 0 ? '*nat' : i === n - 1 ? 'COMMIT' : i % 3 === 1 ? `:KUBE-SEP-${i} - [0:0]` : `-A KUBE-SEP-${i - 1} -p tcp -m comment --comment "ns/svc${i}:http" -m tcp -j DNAT --to-destination ${ip(i)}:8080`),
  'ss.txt': (i) => (i === 0 ? 'State      Recv-Q Send-Q      Local Address:Port       Peer Address:Port Process' : `ESTAB      0      0              ${ip(i)}:${1024 + (i % 60000)}       10.96.45.12:80    timer:(keepalive,28sec,0) uid:101 ino:${i} sk:${i}`),
  'sysctl.txt': (i) => `net.ipv4.conf.veth${i}.rp_filter = 1`,
  'ipvsadm-Lnc.txt': (i) => (i === 0 ? 'IPVS connection entries\npro expire state       source             virtual            destination' : `TCP 14:58  ESTABLISHED ${ip(i)}:${1024 + (i % 60000)}   10.96.0.10:80      10.244.2.5:8080`),
  'nf_conntrack.txt': (i) => `ipv4     2 tcp      6 86369 ESTABLISHED src=${ip(i)} dst=10.96.45.12 sport=${1024 + (i % 60000)} dport=80 src=10.244.2.5 dst=${ip(i)} sport=8080 dport=${1024 + (i % 60000)} [ASSURED] mark=0 zone=0 use=2`,
  'kube-proxy.args': (i) => (i === 0 ? '/usr/local/bin/kube-proxy' : `--v${i}=1`),
  'owners.ndjson': (i) => JSON.stringify({ kind: 'pid', pid: i + 1, comm: `proc${i}`, netns: 4026531840 }),
};

for (const [file, line] of Object.entries(kinds)) {
  const dir = join(out, file.replace(/\W+/g, '-'));
  mkdirSync(dir, { recursive: true });
  const s = createWriteStream(join(dir, file));
  let chunk = '';
  for (let i = 0; i < n; i++) {
    chunk += `${line(i)}\n`;
    if (chunk.length > 1 << 20) {
      s.write(chunk);
      chunk = '';
    }
  }
  s.end(chunk);
  writeFileSync(join(dir, 'sysctl.txt'), file === 'sysctl.txt' ? '' : 'net.ipv4.tcp_keepalive_time = 7200\n', { flag: 'a' });
}
// One line of 10 MB: rejected while reading, before it is a string.
mkdirSync(join(out, 'long-line'), { recursive: true });
writeFileSync(join(out, 'long-line', 'conntrack-L.txt'), `${'x'.repeat(10 << 20)}\n`);
