// The out-of-window segment crafter, a python3 program (stdlib only: AF_PACKET + IPPROTO_RAW) run
// in a backend namespace as `python3 -c CRAFT_OOW_PY …`. Kept as text here so it ships in dist/.
// It sniffs the backend's next data segment of the flow, then sends one ACK|PSH byte with the same
// ack and seq = snd_nxt + 2^30: "SEQ is over upper bound" for the node's conntrack (domain §2.2),
// the one window failure that is still INVALID on 6.1+ (§9.3 runs A/B).

/** Python source; argv: iface src_ip sport dst_ip dport timeout_s. Prints JSON lines. */
export const CRAFT_OOW_PY = String.raw`
import json, socket, struct, sys, time
iface, src, sport, dst, dport, tmo = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), float(sys.argv[6])
def out(o):
    sys.stdout.write(json.dumps(o) + "\n"); sys.stdout.flush()
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
sn = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
sn.bind((iface, 0)); sn.settimeout(0.2)
out({"ready": True})
deadline = time.time() + tmo
seg = None
while time.time() < deadline and seg is None:
    try:
        fr = sn.recv(65535)
    except socket.timeout:
        continue
    if len(fr) < 34 or fr[12:14] != b"\x08\x00": continue
    ip = fr[14:]; ihl = (ip[0] & 15) * 4
    if ip[9] != 6 or socket.inet_ntoa(ip[12:16]) != src or socket.inet_ntoa(ip[16:20]) != dst: continue
    tot = struct.unpack("!H", ip[2:4])[0]
    tcp = ip[ihl:tot]
    sp, dp, seq, ack, off = struct.unpack("!HHIIB", tcp[:13])
    if sp != sport or dp != dport: continue
    plen = len(tcp) - (off >> 4) * 4
    if plen <= 0: continue
    win = struct.unpack("!H", tcp[14:16])[0]
    seg = (seq, plen, ack, win)
if seg is None:
    out({"error": "no segment seen"}); sys.exit(2)
seq, plen, ack, win = seg
bad_seq = (seq + plen + (1 << 30)) & 0xffffffff
payload = b"X"
tcp = struct.pack("!HHIIBBHHH", sport, dport, bad_seq, ack, 5 << 4, 0x18, win, 0, 0) + payload
pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(tcp))
tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
iph = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 54321, 0x4000, 64, 6, 0, socket.inet_aton(src), socket.inet_aton(dst))
iph = iph[:10] + struct.pack("!H", csum(iph)) + iph[12:]
rs = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
rs.sendto(iph + tcp, (dst, 0))
out({"sent": True, "seen_seq": seq, "seen_len": plen, "ack": ack, "seq": bad_seq})
`;
