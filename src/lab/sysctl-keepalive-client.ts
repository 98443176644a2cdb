// A client whose keepalive schedule is its namespace's sysctls: a python3 program (stdlib only)
// that sets SO_KEEPALIVE and nothing else. Node cannot be that client: libuv's setKeepAlive always
// writes TCP_KEEPIDLE (and, from libuv 1.45, TCP_KEEPINTVL=1 and TCP_KEEPCNT=10) on the socket,
// so the netns's tcp_keepalive_intvl would never be used. Kept as text so it ships in dist/.

/**
 * Python source; argv: host port idle_s wait_s. Connects, sends one line and waits for its echo,
 * idles idle_s seconds with only the kernel's keepalive probes on the wire, then sends one more
 * line and waits up to wait_s for the echo. Prints JSON lines: {"ev":"connected","local":…},
 * {"ev":"idle"}, then {"ev":"result","outcome":"ok"|"ECONNRESET"|"ETIMEDOUT"|"EPIPE"|…}.
 */
export const SYSCTL_KEEPALIVE_CLIENT_PY = String.raw`
import errno, json, socket, sys, time
host, port, idle, wait = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
def out(o):
    o["t"] = int(time.time() * 1000)
    sys.stdout.write(json.dumps(o) + "\n"); sys.stdout.flush()
def name(e):
    return errno.errorcode.get(e.errno, "E%d" % (e.errno or 0)) if isinstance(e, OSError) and e.errno else type(e).__name__
def echo(s, text, tmo):
    s.settimeout(tmo)
    s.sendall(text.encode() + b"\n")
    got = b""
    deadline = time.time() + tmo
    while not got.endswith(b"\n"):
        s.settimeout(max(0.01, deadline - time.time()))
        chunk = s.recv(4096)
        if not chunk:
            raise ConnectionResetError(errno.ECONNRESET, "peer closed")
        got += chunk
    return got.decode().strip() == text
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
s.settimeout(5)
try:
    s.connect((host, port))
    l = s.getsockname()
    if not echo(s, "hello", 3):
        out({"ev": "result", "outcome": "error:first-echo"}); sys.exit(0)
    out({"ev": "connected", "local": "%s:%d" % (l[0], l[1])})
except Exception as e:
    out({"ev": "result", "outcome": "error:" + name(e)}); sys.exit(0)
out({"ev": "idle"})
time.sleep(idle)
try:
    out({"ev": "result", "outcome": "ok" if echo(s, "after-idle", wait) else "error:bad-echo"})
except socket.timeout:
    out({"ev": "result", "outcome": "no-reply"})
except Exception as e:
    out({"ev": "result", "outcome": name(e)})
s.close()
`;

/** The client's command line (argument array) for `host:port`, idling `idleS`, waiting `waitS`. */
export function sysctlKeepaliveClientArgv(
  host: string,
  port: number,
  idleS: number,
  waitS: number,
): string[] {
  return [
    'python3',
    '-c',
    SYSCTL_KEEPALIVE_CLIENT_PY,
    host,
    String(port),
    String(idleS),
    String(waitS),
  ];
}
