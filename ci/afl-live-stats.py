#!/usr/bin/env python3
"""ci/afl-live-stats.py DIR - live statistics of running afl-fuzz instances.

AFL++ 4.04c without its UI writes fuzzer_stats only every 60 s (and
plot_data not at all in the first minute), too late for the progress lines
of ci/fuzz-afl.sh. With AFL_STATSD=1 it sends its statistics every second
as StatsD gauges over UDP instead. This listener binds a free port on the
loopback address, writes it to DIR/port, and keeps DIR/<banner>.stats up to
date ("name value" lines; banner = afl-fuzz -T, one per instance), written
atomically so a reader never sees half a file. It exits when DIR/stop
appears or its parent (the script that started it) is gone.

Datagram lines look like (AFL_STATSD_TAGS_FLAVOR=dogstatsd):
    fuzzing.execs_done:22578|g|#banner:fuzz_lrsc-main,afl_version:++4.04c
"""
import os
import socket
import sys


def parse(datagram):
    """Yield (banner, name, value) from one StatsD datagram."""
    for line in datagram.decode("utf-8", "replace").splitlines():
        metric, _, rest = line.partition(":")
        value, _, tags = rest.partition("|")
        if not metric or not value:
            continue
        banner = "unknown"
        if "#" in tags:
            for tag in tags.split("#", 1)[1].split(","):
                key, _, val = tag.partition(":")
                if key == "banner" and val:
                    banner = val
        name = metric.split(".", 1)[-1]
        yield banner, name, value.strip()


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: afl-live-stats.py DIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    parent = os.getppid()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(1.0)
    tmp = os.path.join(out, "port.tmp")
    with open(tmp, "w") as f:
        f.write("%d\n" % sock.getsockname()[1])
    os.replace(tmp, os.path.join(out, "port"))

    stats = {}
    while not os.path.exists(os.path.join(out, "stop")) and os.getppid() == parent:
        try:
            datagram, _ = sock.recvfrom(65536)
        except socket.timeout:
            continue
        touched = set()
        for banner, name, value in parse(datagram):
            if "/" in banner or banner.startswith("."):
                continue  # never write outside DIR
            stats.setdefault(banner, {})[name] = value
            touched.add(banner)
        for banner in touched:
            path = os.path.join(out, banner + ".stats")
            with open(path + ".tmp", "w") as f:
                for name in sorted(stats[banner]):
                    f.write("%s %s\n" % (name, stats[banner][name]))
            os.replace(path + ".tmp", path)


if __name__ == "__main__":
    main()
