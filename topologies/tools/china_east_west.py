#!/usr/bin/env python3
"""Writes topologies/china-east-west.yaml: a national compute network in the
spirit of "east data, west compute" (China's national computing hub plan).

Three operators, routers in the real hub cities and the big provincial
capitals, latency from great-circle distance at 5 us per km of fiber,
inter-operator peering at the national exchange cities, and data centers that
are big and cheap in the west and small, dear and close in the east.

Routers and data centers carry their city's coordinates (lat/lon, degrees),
which the console's map lays them out by.

Run: python3 topologies/tools/china_east_west.py > topologies/china-east-west.yaml
The output is deterministic.
"""

import math

# city code: (name, latitude, longitude, region, operators present)
CITIES = {
    "bj": ("beijing", 39.904, 116.407, "north", "ct cu cm"),
    "tj": ("tianjin", 39.343, 117.361, "north", "ct cu"),
    "sjz": ("shijiazhuang", 38.042, 114.514, "north", "cu"),
    "zjk": ("zhangjiakou", 40.824, 114.887, "north", "cu"),
    "ty": ("taiyuan", 37.870, 112.549, "north", "cu"),
    "jn": ("jinan", 36.651, 117.120, "east", "cu"),
    "sy": ("shenyang", 41.806, 123.432, "northeast", "cu"),
    "hrb": ("harbin", 45.803, 126.535, "northeast", "cm"),
    "sh": ("shanghai", 31.230, 121.474, "east", "ct cu cm"),
    "hz": ("hangzhou", 30.274, 120.155, "east", "ct cm"),
    "nj": ("nanjing", 32.060, 118.797, "east", "ct cu"),
    "hf": ("hefei", 31.821, 117.227, "east", "ct"),
    "wuhu": ("wuhu", 31.353, 118.433, "east", "cm"),
    "fz": ("fuzhou", 26.075, 119.296, "east", "ct"),
    "gz": ("guangzhou", 23.129, 113.264, "south", "ct cu cm"),
    "sz": ("shenzhen", 22.543, 114.058, "south", "ct cm"),
    "sg": ("shaoguan", 24.810, 113.597, "south", "ct"),
    "nn": ("nanning", 22.817, 108.366, "south", "ct"),
    "wh": ("wuhan", 30.593, 114.305, "central", "ct cu cm"),
    "cs": ("changsha", 28.228, 112.939, "central", "cm"),
    "zz": ("zhengzhou", 34.747, 113.625, "central", "cu cm"),
    "nc": ("nanchang", 28.682, 115.858, "central", "ct"),
    "xa": ("xian", 34.341, 108.940, "northwest", "ct cu cm"),
    "lz": ("lanzhou", 36.061, 103.834, "northwest", "ct cu"),
    "qy": ("qingyang", 35.709, 107.643, "northwest", "ct"),
    "yc": ("yinchuan", 38.487, 106.231, "northwest", "cm"),
    "zw": ("zhongwei", 37.500, 105.196, "northwest", "cu"),
    "wlmq": ("urumqi", 43.825, 87.617, "northwest", "cm"),
    "hh": ("hohhot", 40.842, 111.749, "north", "cu cm"),
    "cd": ("chengdu", 30.573, 104.066, "southwest", "ct cu cm"),
    "cq": ("chongqing", 29.563, 106.551, "southwest", "ct cm"),
    "gy": ("guiyang", 26.647, 106.630, "southwest", "ct cm"),
    "km": ("kunming", 25.040, 102.712, "southwest", "ct"),
}

OPERATORS = [
    ("ct", 4134, "China Telecom (backbone CN2/163 in spirit)"),
    ("cu", 4837, "China Unicom"),
    ("cm", 9808, "China Mobile"),
]

# National exchange cities: full peering mesh, or a ring where marked.
PEERING_MESH = ["bj", "sh", "gz"]
PEERING_RING = ["cd", "wh", "xa"]
BIG = {"bj", "sh", "gz", "cd", "wh", "xa"}
WEST = {"northwest", "southwest"}
US_PER_KM = 5


def km(a, b):
    """Great-circle distance in km between two city codes (haversine)."""
    _, la1, lo1, _, _ = CITIES[a]
    _, la2, lo2, _, _ = CITIES[b]
    p1, p2 = math.radians(la1), math.radians(la2)
    dp, dl = p2 - p1, math.radians(lo2 - lo1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def router_id(city, op):
    return f"{city}-{op}"


def routers():
    out = []
    for city, (_, _, _, _, ops) in CITIES.items():
        for op in ops.split():
            out.append((city, op))
    return out


def backbone(op):
    """Each router of `op` to its 3 nearest same-operator routers, then the
    shortest edges that join what is still apart."""
    cities = [c for c, o in routers() if o == op]
    edges = set()
    for c in cities:
        near = sorted((x for x in cities if x != c), key=lambda x: (km(c, x), x))[:3]
        for x in near:
            if km(c, x) < 1800:
                edges.add(tuple(sorted((c, x))))
    while True:
        parent = {c: c for c in cities}

        def find(x):
            while parent[x] != x:
                x = parent[x]
            return x

        for a, b in edges:
            parent[find(a)] = find(b)
        comps = {}
        for c in cities:
            comps.setdefault(find(c), []).append(c)
        if len(comps) == 1:
            return sorted(edges)
        groups = sorted(comps.values(), key=lambda g: sorted(g))
        first, rest = groups[0], [c for g in groups[1:] for c in g]
        a, b = min(((x, y) for x in first for y in rest), key=lambda p: (km(*p), p))
        edges.add(tuple(sorted((a, b))))


def corridor_srlg(a, b):
    """Links between the same two cities share a duct: one SRLG per city pair."""
    names = sorted(CITIES)
    i, j = sorted((names.index(a), names.index(b)))
    return 1000 + i * 100 + j


def link_yaml(a_city, a_op, b_city, b_op, peering=False):
    a, b = router_id(a_city, a_op), router_id(b_city, b_op)
    if peering:
        dist = 0.0
        latency = 100
        igp = 10
        bandwidth = 100000
        srlg = None
    else:
        dist = km(a_city, b_city)
        latency = round(dist * US_PER_KM)
        igp = max(1, round(dist / 10))
        bandwidth = 400000 if a_city in BIG and b_city in BIG else 100000
        srlg = corridor_srlg(a_city, b_city)
    east = CITIES[a_city][3] not in WEST and CITIES[b_city][3] not in WEST
    # East links carry more of the operators' own traffic.
    load = (0.45 if east else 0.15) + ((len(a) * 7 + len(b) * 13) % 10) / 100
    lines = [f"  - a: {a}", f"    b: {b}", f"    igp: {igp}",
             f"    latency_us: {latency}", f"    bandwidth_mbps: {bandwidth}",
             f"    used_mbps: {round(bandwidth * load)}"]
    jitter = round(dist / 100)
    if jitter:
        lines.append(f"    jitter_us: {jitter}")
    if dist > 1500:
        lines.append("    loss_ppm: 2")
    if srlg:
        lines.append(f"    srlg: [{srlg}]")
    return "\n".join(lines)


# id: (attach, latency_us, storage, [(kind, tflops, used, memory_gb, used_mem, price)])
# AI pools carry 2 GB per TFLOPS; CPU (general) pools about 1 GB per GFLOPS,
# except dc-cq, whose memory is a third of that (`topology show` flags it).
DATACENTERS = {
    "dc-hh": (["hh-cu", "hh-cm"], 120, (2000, 20000), [
        ("ai", 20000, 4000, 40000, 8000, 0.60),
        ("general", 3000, 600, 3200000, 500000, 0.20)]),
    "dc-gy": (["gy-ct", "gy-cm"], 100, (1500, 15000), [
        ("ai", 16000, 3000, 32000, 6000, 0.70),
        ("hpc", 6000, 1000, 8000, 1000, 0.55)]),
    "dc-qy": (["qy-ct"], 150, (800, 8000), [
        ("ai", 12000, 1000, 24000, 2000, 0.55)]),
    "dc-zw": (["zw-cu"], 120, (1000, 9000), [
        ("ai", 10000, 2000, 20000, 4000, 0.58),
        ("general", 2500, 500, 2400000, 400000, 0.18)]),
    "dc-cd": (["cd-ct", "cd-cu"], 80, (800, 5000), [
        ("ai", 6000, 2000, 12000, 4000, 1.00),
        ("hpc", 3000, 800, 4000, 1000, 0.90)]),
    "dc-cq": (["cq-cm"], 90, (300, 3000), [
        ("general", 2000, 400, 700000, 100000, 0.40)]),
    "dc-wh": (["wh-ct"], 60, (300, 1500), [
        ("ai", 2000, 800, 4000, 1500, 1.50),
        ("hpc", 1200, 300, 1600, 400, 1.30)]),
    "dc-wuhu": (["wuhu-cm"], 80, (500, 4000), [
        ("ai", 4000, 1500, 8000, 3000, 1.60)]),
    "dc-zjk": (["zjk-cu"], 100, (600, 6000), [
        ("ai", 3000, 1200, 6000, 2400, 1.40),
        ("general", 1500, 500, 1600000, 400000, 0.45)]),
    "dc-sg": (["sg-ct"], 90, (400, 3000), [
        ("ai", 3000, 1500, 6000, 3000, 1.80)]),
    "dc-bj": (["bj-cu", "bj-cm"], 40, (200, 800), [
        ("ai", 2000, 1400, 4000, 2800, 2.40),
        ("general", 800, 500, 850000, 500000, 0.90)]),
    "dc-sh": (["sh-ct", "sh-cu"], 40, (200, 800), [
        ("ai", 1500, 1000, 3000, 2000, 2.60),
        ("hpc", 800, 400, 1000, 500, 2.00)]),
    "dc-sz": (["sz-ct", "sz-cm"], 40, (150, 600), [
        ("ai", 1200, 700, 2400, 1400, 2.80)]),
}


def main():
    print("# A national compute network in the spirit of \"east data, west compute\".")
    print("# Generated by topologies/tools/china_east_west.py; edit that, not this.")
    print("# Latency: great-circle distance x 5 us/km; igp: km / 10; SRLG per city pair.")
    print("version: 1")
    print("name: china-east-west")
    print("operators:")
    for op, asn, desc in OPERATORS:
        print(f"  - id: {op}\n    asn: {asn}\n    description: \"{desc}\"")
    print("routers:")
    op_index = {op: i + 1 for i, (op, _, _) in enumerate(OPERATORS)}
    serial = {op: 0 for op in op_index}
    for city, op in routers():
        serial[op] += 1
        name, lat, lon, region, _ = CITIES[city]
        print(f"  - id: {router_id(city, op)}\n    operator: {op}\n"
              f"    locator: \"fc00:{op_index[op]}:{serial[op]:x}::/48\"\n"
              f"    city: {name}\n    region: {region}\n"
              f"    lat: {lat}\n    lon: {lon}")
    print("links:")
    for op, _, _ in OPERATORS:
        for a, b in backbone(op):
            print(link_yaml(a, op, b, op))
    for city in PEERING_MESH:
        ops = CITIES[city][4].split()
        for i in range(len(ops)):
            for j in range(i + 1, len(ops)):
                print(link_yaml(city, ops[i], city, ops[j], peering=True))
    for city in PEERING_RING:
        ops = CITIES[city][4].split()
        for i in range(len(ops) - 1):
            print(link_yaml(city, ops[i], city, ops[i + 1], peering=True))
    print("datacenters:")
    for dc, (attach, latency, (ssd, hdd), pools) in DATACENTERS.items():
        city = attach[0].rsplit("-", 1)[0]
        name, lat, lon, region, _ = CITIES[city]
        print(f"  - id: {dc}\n    attach: [{', '.join(attach)}]\n    city: {name}\n"
              f"    region: {region}\n    lat: {lat}\n    lon: {lon}\n"
              f"    latency_us: {latency}\n"
              f"    storage_tb: {{ssd: {ssd}, hdd: {hdd}}}\n    pools:")
        for kind, tflops, used, mem, used_mem, price in pools:
            print(f"      - kind: {kind}\n        tflops: {tflops}\n        used_tflops: {used}\n"
                  f"        memory_gb: {mem}\n        used_memory_gb: {used_mem}\n"
                  f"        price: {price}")


if __name__ == "__main__":
    main()
