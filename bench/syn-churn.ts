// Conntrack churn without a socket per connection, for event rates one Node process cannot reach:
// crafted TCP SYNs from the bench client namespace to the lab's VIP (a raw socket in perl, which
// every Debian/Ubuntu image has; Node has no raw sockets). The node DNATs each to be1, be1 answers
// SYN-ACK from its listening socket, and the client's kernel, holding no socket for the port,
// answers RST. Per connection the node's conntrack emits NEW (SYN_SENT), UPDATE (SYN_RECV), UPDATE
// (CLOSE) and, once nf_conntrack_tcp_timeout_close passes, DESTROY: 4 events, with no user-space
// work at either end beyond one send(2). Only ever run inside a kdiag-bench-* namespace: the
// packets go to the lab's documentation-range VIP, routed to the node namespace.

/**
 * The perl program (given as an argument, never a shell string): args are source address, VIP,
 * port, rate/s (0 = as fast as it goes), duration ms, first source port. Prints one `RESULT {json}`.
 * Source ports cycle over 10000–64999, so a port comes back after 55,000 connections (11 s at
 * 5,000/s), long after its CLOSE entry (1 s in the bench) is gone.
 */
const PERL_SYN_CHURN = [
  'use strict; use Socket; use Time::HiRes qw(time sleep);',
  'my ($src, $dst, $dport, $rate, $ms, $port) = @ARGV;',
  'socket(my $s, PF_INET, SOCK_RAW, 6) or die "socket: $!\\n";',
  'my ($sa, $da) = (inet_aton($src), inet_aton($dst));',
  'my $to = pack_sockaddr_in(0, $da);',
  'my $t0 = time; my $end = $t0 + $ms / 1000; my ($n, $err) = (0, 0);',
  'while (1) {',
  '  my $now = time; last if $now >= $end;',
  '  my $due = $rate > 0 ? int(($now - $t0) * $rate) : $n + 32;',
  '  while ($n < $due) {',
  '    $port = $port >= 64999 ? 10000 : $port + 1;',
  // source port, destination port, seq, ack, data offset 5 + SYN, window, checksum 0, urgent 0
  "    my $tcp = pack('nnNNnnnn', $port, $dport, int(rand(4294967295)), 0, 0x5002, 65535, 0, 0);",
  // one's-complement sum over the pseudo-header (addresses, protocol 6, TCP length) and the header
  "    my $sum = 0; $sum += $_ for unpack('n*', $sa . $da . pack('nn', 6, 20) . $tcp);",
  '    $sum = ($sum >> 16) + ($sum & 0xffff); $sum += $sum >> 16;',
  "    substr($tcp, 16, 2) = pack('n', ~$sum & 0xffff);",
  '    if (send($s, $tcp, 0, $to)) { $n++ } else { $err++; $n++ }',
  '  }',
  '  sleep(0.002);',
  '}',
  'my $el = time - $t0;',
  'printf "RESULT {\\"sent\\":%d,\\"errors\\":%d,\\"ms\\":%.1f,\\"perSec\\":%.1f}\\n", $n, $err, $el * 1000, $n / $el;',
].join(' ');

/** The argv that sends SYNs from `src` to `vip:port` at `rate`/s for `ms` (run it in the client netns). */
export function synChurnArgv(
  src: string,
  vip: string,
  port: number,
  rate: number,
  ms: number,
): string[] {
  return [
    'perl',
    '-e',
    PERL_SYN_CHURN,
    src,
    vip,
    String(port),
    String(rate),
    String(ms),
    String(10000 + Math.floor(Math.random() * 50000)),
  ];
}

/** conntrack events per SYN of the churn above: NEW, UPDATE (SYN_RECV), UPDATE (CLOSE), DESTROY. */
export const SYN_CHURN_EVENTS_PER_CONN = 4;
