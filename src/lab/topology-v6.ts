// The lab's IPv6 plane: the same namespaces and links carry a second family, so a Service can be
// reached over IPv6 through ip6tables DNAT exactly as kube-proxy programs a dual-stack node.
// Addresses come from the documentation prefix only (RFC 3849, 2001:db8::/32), written in the
// canonical form conntrack and ss print, so kdiag's flow ids match them as text.
//
//   client 2001:db8:c::10/64 ── ::1 mbox 2001:db8:d::1 ── 2001:db8:d::2 node 2001:db8:b::1/64 (br-svc) ─┬─ be1 2001:db8:b::11
//                                                                                                       └─ be2 2001:db8:b::12
//   Service VIP [2001:db8:5::10]:80 → backends :8080, DNAT'd in the node namespace.

export const ADDR6 = {
  client: '2001:db8:c::10',
  mboxClientSide: '2001:db8:c::1',
  mboxNodeSide: '2001:db8:d::1',
  nodeFront: '2001:db8:d::2',
  nodeBack: '2001:db8:b::1',
  be1: '2001:db8:b::11',
  be2: '2001:db8:b::12',
  vip: '2001:db8:5::10',
  podCidr: '2001:db8:c::/64',
  vipCidr: '2001:db8:5::/64',
  backendCidr: '2001:db8:b::/64',
} as const;
