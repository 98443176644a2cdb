// ss without -n prints ports through getservbyport(3), i.e. by their /etc/services name. These are
// the names of common server ports in the netbase (Debian, Ubuntu) and setup (RHEL, Fedora)
// /etc/services files; where they differ both are listed (8080 is http-alt in one, webcache in the
// other). A name not here stays a bad address: guessing a port would put a flow on the wrong path.
const PORTS: ReadonlyMap<string, number> = new Map([
  ['ftp', 21],
  ['ssh', 22],
  ['telnet', 23],
  ['smtp', 25],
  ['domain', 53],
  ['http', 80],
  ['www', 80],
  ['kerberos', 88],
  ['pop3', 110],
  ['sunrpc', 111],
  ['imap2', 143],
  ['imap', 143],
  ['snmp', 161],
  ['bgp', 179],
  ['ldap', 389],
  ['https', 443],
  ['microsoft-ds', 445],
  ['syslog', 514],
  ['submission', 587],
  ['ldaps', 636],
  ['imaps', 993],
  ['pop3s', 995],
  ['openvpn', 1194],
  ['ms-sql-s', 1433],
  ['nfs', 2049],
  ['mysql', 3306],
  ['postgresql', 5432],
  ['postgres', 5432],
  ['amqps', 5671],
  ['amqp', 5672],
  ['sun-sr-https', 6443],
  ['redis', 6379],
  ['http-alt', 8080],
  ['webcache', 8080],
  ['cslistener', 9000],
  ['websm', 9090],
  ['jetdirect', 9100],
]);

/** The port of a service name as ss prints it without -n, or undefined for a name not known here. */
export function servicePort(name: string): number | undefined {
  return PORTS.get(name);
}
