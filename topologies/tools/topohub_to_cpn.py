#!/usr/bin/env python3
"""Converts a real-network graph from the `topohub` package into a CPN topology
file (format: shared/spec/topology.md, version 1).

Source
    topohub (pip install topohub) ships the Internet Topology Zoo, SNDlib and
    CAIDA graphs (plus synthetic "backbone" and "gabriel" graphs) as NetworkX
    node-link JSON. A graph is named by its key, e.g. "topozoo/Abilene",
    "sndlib/germany50", "caida/2024-08/1221". Nodes carry "name" (sometimes
    missing in CAIDA/backbone) and "pos" = [longitude, latitude]; edges carry
    "dist" (great-circle length in km). No graph carries a link capacity.
    "gabriel/*" graphs are refused: their "pos" is a plane point, not lon/lat.

Rules
    - One operator per network; its id is the graph's name, lowercased, [a-z0-9-].
    - Only the largest connected component is kept; self-loops are dropped.
    - Routers are nodes. id = sanitized node name (de-duplicated with -2, -3...;
      "n<node id>" when the node has no name); locator fc00:1:<i in hex>::/48
      with i = 1, 2, ... in router id order; city = sanitized name; region =
      west / central / east by thirds of the component's longitude span.
    - Links are edges. km = "dist", else haversine of the two "pos", else the
      graph is refused. latency_us = round(km * 5) (5 us per km of fiber),
      igp = max(1, round(km / 10)), bandwidth_mbps = edge "capacity" (taken as
      Mbit/s) when present, else 100000. Link ids are the default "<a>-<b>"
      unless two links would share it; those get explicit "<a>-<b>-<k>" ids.
    - 3 to 5 datacenters (one per 10 routers, clamped) hang off the
      highest-degree routers (ties by router id), ranked: every one has an "ai"
      pool (memory 2 GB per TFLOPS), some an "hpc" or "general" pool (general:
      about 1000 GB per TFLOPS). Prices depend on the region: west < central < east.
    - The output is deterministic: everything is sorted.

Usage
    python3 topologies/tools/topohub_to_cpn.py --list
    python3 topologies/tools/topohub_to_cpn.py topozoo/Abilene > topologies/real/topozoo-abilene.yaml
"""

import importlib.resources
import json
import math
import re
import sys
import unicodedata

import topohub

US_PER_KM = 5
DEFAULT_BANDWIDTH_MBPS = 100000
EARTH_RADIUS_KM = 6371.0

# Datacenter tiers by degree rank: (ai tflops, extra pool kind, extra tflops).
DC_TIERS = [
    (4000, "hpc", 2000),
    (3000, "general", 800),
    (2000, None, 0),
    (1500, "hpc", 800),
    (1000, "general", 500),
]
REGION_PRICE = {"west": 0.60, "central": 0.90, "east": 1.30}  # per TFLOPS-hour, ai
KIND_PRICE_FACTOR = {"ai": 1.0, "hpc": 0.8, "general": 0.3}
YAML_RESERVED = {"true", "false", "null", "yes", "no", "on", "off", "y", "n", "nan", "inf"}


def sanitize(text):
    """Lowercase ASCII, runs of anything but [a-z0-9] become one '-'."""
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def scalar(text):
    """A YAML string scalar: bare when unambiguous, else double-quoted."""
    if re.fullmatch(r"[a-z][a-z0-9-]*", text) and text not in YAML_RESERVED:
        return text
    return json.dumps(text)


def haversine_km(pos_a, pos_b):
    """Great-circle distance in km between two (longitude, latitude) points."""
    lon1, lat1 = map(math.radians, pos_a)
    lon2, lat2 = map(math.radians, pos_b)
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def graph_keys():
    """All keys of the graphs shipped in topohub, sorted (gabriel excluded)."""
    root = importlib.resources.files(topohub) / "data"
    keys = []
    stack = [(root, "")]
    while stack:
        folder, prefix = stack.pop()
        for entry in folder.iterdir():
            if entry.is_dir():
                if prefix or entry.name != "gabriel":
                    stack.append((entry, prefix + entry.name + "/"))
            elif entry.name.endswith(".json"):
                keys.append(prefix + entry.name[: -len(".json")])
    return sorted(keys)


def edge_km(edge, pos):
    """Length of an edge in km, or None when the graph says nothing about it."""
    dist = edge.get("dist")
    if isinstance(dist, (int, float)) and dist >= 0:
        return float(dist)
    a, b = str(edge["source"]), str(edge["target"])
    if pos.get(a) and pos.get(b):
        return haversine_km(pos[a], pos[b])
    return None


def largest_component(node_ids, edges):
    """The node set of the largest connected component (ties: the one found
    first, i.e. holding the smallest node id)."""
    adjacency = {n: set() for n in node_ids}
    for a, b, _ in edges:
        adjacency[a].add(b)
        adjacency[b].add(a)
    seen, components = set(), []
    for start in sorted(node_ids):
        if start in seen:
            continue
        seen.add(start)
        component, todo = {start}, [start]
        while todo:
            for nxt in adjacency[todo.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    component.add(nxt)
                    todo.append(nxt)
        components.append(component)
    return max(components, key=len)


def router_ids(nodes):
    """Unique router ids from node names, in (name, node id) order."""
    ids, taken = {}, set()
    for node in sorted(nodes, key=lambda n: (sanitize(n.get("name") or ""), str(n["id"]))):
        base = sanitize(node.get("name") or "") or f"n{sanitize(node['id'])}"
        if not base[0].isalpha() or base == "dc" or base.startswith("dc-"):
            base = "r-" + base  # ids start with a letter; "dc-" is for datacenters
        rid, k = base, 1
        while rid in taken:
            k += 1
            rid = f"{base}-{k}"
        taken.add(rid)
        ids[str(node["id"])] = rid
    return ids


def convert(key):
    """Returns the topology file text for the topohub graph `key`."""
    if key.startswith("gabriel/"):
        raise ValueError(f"{key}: gabriel graphs have plane coordinates, not lon/lat")
    try:
        graph = topohub.get(key)
    except KeyError:
        raise ValueError(f"no topohub graph named {key!r}; see --list") from None
    nodes = {str(n["id"]): n for n in graph["nodes"]}
    pos = {nid: n.get("pos") for nid, n in nodes.items()}

    edges = []  # (source, target, edge)
    for edge in graph["edges"]:
        a, b = str(edge["source"]), str(edge["target"])
        if a == b or a not in nodes or b not in nodes:
            continue
        if edge_km(edge, pos) is None:
            raise ValueError(f"{key}: edge {a}-{b} has neither a distance nor coordinates")
        edges.append((a, b, edge))
    if not edges:
        raise ValueError(f"{key}: no links")

    keep = largest_component(list(nodes), edges)
    edges = [e for e in edges if e[0] in keep]
    rid = router_ids([nodes[n] for n in keep])
    routers = sorted(keep, key=lambda n: rid[n])

    # Regions: thirds of the longitude span of the kept nodes.
    lons = [pos[n][0] for n in keep if pos.get(n)]
    west_edge = min(lons) + (max(lons) - min(lons)) / 3 if lons else 0
    east_edge = min(lons) + 2 * (max(lons) - min(lons)) / 3 if lons else 0

    def region(n):
        if not pos.get(n):
            return None
        lon = pos[n][0]
        return "west" if lon < west_edge else "east" if lon >= east_edge else "central"

    links = []  # (a, b, km, bandwidth)
    for a, b, edge in edges:
        ra, rb = sorted((rid[a], rid[b]))
        capacity = edge.get("capacity")
        bandwidth = (round(capacity) if isinstance(capacity, (int, float)) and capacity > 0
                     else DEFAULT_BANDWIDTH_MBPS)
        links.append((ra, rb, edge_km(edge, pos), bandwidth))
    links.sort()

    # Default ids "<a>-<b>" that two links would share become "<a>-<b>-<k>".
    default_ids = [f"{a}-{b}" for a, b, _, _ in links]
    shared = {i for i in default_ids if default_ids.count(i) > 1}
    taken = set(default_ids) - shared
    link_ids = []
    for link_id in default_ids:
        if link_id not in shared:
            link_ids.append(None)
            continue
        k = 1
        while f"{link_id}-{k}" in taken:
            k += 1
        taken.add(f"{link_id}-{k}")
        link_ids.append(f"{link_id}-{k}")

    name = sanitize(key)
    operator = sanitize(graph["graph"].get("name") or key.rsplit("/", 1)[-1])
    asn = None
    if operator.isdigit():  # CAIDA graphs are named by their AS number
        asn = int(operator)
        operator = f"as{operator}"

    out = [
        f"# Source: topohub {topohub.__version__}, graph {key}",
        f"# Generated by: python3 topologies/tools/topohub_to_cpn.py {key} > topologies/real/{name}.yaml",
        f"# Largest connected component: {len(routers)} of {len(nodes)} nodes, {len(links)} links.",
        "# latency_us = km * 5, igp = km / 10, region = third of the longitude span.",
        "version: 1",
        f"name: {scalar(name)}",
        "operators:",
        f"  - id: {scalar(operator)}",
    ]
    if asn is not None:
        out.append(f"    asn: {asn}")
    out.append(f"    description: {json.dumps(f'{key} (topohub {topohub.__version__})')}")

    out.append("routers:")
    for i, n in enumerate(routers, start=1):
        out += [f"  - id: {scalar(rid[n])}",
                f"    operator: {scalar(operator)}",
                f"    locator: \"fc00:1:{i:x}::/48\""]
        city = sanitize(nodes[n].get("name") or "")
        if city:
            out.append(f"    city: {scalar(city)}")
        if region(n):
            out.append(f"    region: {region(n)}")

    out.append("links:")
    for (a, b, km, bandwidth), link_id in zip(links, link_ids):
        if link_id:
            out.append(f"  - id: {scalar(link_id)}")
            out.append(f"    a: {scalar(a)}")
        else:
            out.append(f"  - a: {scalar(a)}")
        out += [f"    b: {scalar(b)}",
                f"    igp: {max(1, round(km / 10))}",
                f"    latency_us: {round(km * US_PER_KM)}",
                f"    bandwidth_mbps: {bandwidth}"]

    degree = {r: 0 for r in rid.values()}
    for a, b, _, _ in links:
        degree[a] += 1
        degree[b] += 1
    count = min(len(routers), max(3, min(5, len(routers) // 10)))
    hubs = sorted(degree, key=lambda r: (-degree[r], r))[:count]
    node_of = {rid[n]: n for n in routers}

    out.append("datacenters:")
    for hub, (ai_tflops, extra_kind, extra_tflops) in sorted(zip(hubs, DC_TIERS)):
        n = node_of[hub]
        out += [f"  - id: {scalar('dc-' + hub)}", f"    attach: [{scalar(hub)}]"]
        city = sanitize(nodes[n].get("name") or "")
        if city:
            out.append(f"    city: {scalar(city)}")
        if region(n):
            out.append(f"    region: {region(n)}")
        base_price = REGION_PRICE[region(n) or "central"]
        pools = [("ai", ai_tflops, 2 * ai_tflops)]
        if extra_kind == "hpc":
            pools.append(("hpc", extra_tflops, extra_tflops * 4 // 3))
        elif extra_kind == "general":
            pools.append(("general", extra_tflops, extra_tflops * 1000))
        out.append("    pools:")
        for kind, tflops, memory in pools:
            out += [f"      - kind: {kind}",
                    f"        tflops: {tflops}",
                    f"        memory_gb: {memory}",
                    f"        price: {round(base_price * KIND_PRICE_FACTOR[kind], 2)}"]
    return "\n".join(out) + "\n"


def main(argv):
    if argv == ["--list"]:
        for key in graph_keys():
            graph = topohub.get(key)
            print(f"{key}\t{len(graph['nodes'])} nodes\t{len(graph['edges'])} edges")
        return 0
    if len(argv) != 1 or argv[0].startswith("-"):
        print("usage: topohub_to_cpn.py --list | topohub_to_cpn.py <graph key>", file=sys.stderr)
        return 2
    try:
        sys.stdout.write(convert(argv[0]))
    except ValueError as err:
        print(f"skipped: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
