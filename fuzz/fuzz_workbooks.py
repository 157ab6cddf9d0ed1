#!/usr/bin/env python3
"""Fuzz itvalue's workbook entry (xlsx, xlsb, ods) with mutated sample workbooks.

Each execution writes one mutated workbook and runs the real binary on it,
`itvalue check`, with its address space capped (1 GiB by default), so that a
reader that allocates without bound dies of it here instead of on a user's
machine. An execution passes when the binary exits with one of its documented
codes for bad input (0, 65, 66); it is a finding when it is killed by a signal,
aborts (134, as Rust does when an allocation fails), panics (101), reports an
internal error (70), or takes longer than the timeout. Findings are kept under
fuzz/findings/ (git-ignored) with the binary's last words.

Mutations, chosen at random and stacked:
  * structural, inside the zip (xlsx, ods): huge or negative numbers, shared
    string indexes past the table, cell types switched (s, e, str, b, d,
    inlineStr), repeated rows and cells, absurd dimensions and row numbers,
    very long strings, deep nesting, truncated tags, broken entities;
  * container: parts renamed, dropped or duplicated, stored uncompressed;
  * bytes: flips, inserts, deletions and truncation of the whole file (also the
    only mutation for xlsb, whose records are binary).

Usage:
  fuzz/fuzz_workbooks.py --binary target/release/itvalue --minutes 60
The seeds are written with `itvalue sample --scale 0.02` into a temporary
folder, plus any workbooks given with --seed.
"""

import argparse
import io
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile

PASS_CODES = {0, 65, 66}
ENTITIES = {
    "costs.xlsx": ("costs", "Costs"),
    "incidents.xlsx": ("incidents", "Incidents"),
    "investments.xlsx": ("investments", "Investments"),
    "fx_rates.xlsx": ("fx_rates", "FX Rates"),
}


def ods_seed():
    """A small valid OpenDocument spreadsheet of cost lines, written by hand (nothing here writes
    ods), so the ods reader has a seed too."""
    def cell(value):
        if isinstance(value, (int, float)):
            return f'<table:table-cell office:value-type="float" office:value="{value}"><text:p>{value}</text:p></table:table-cell>'
        return f'<table:table-cell office:value-type="string"><text:p>{value}</text:p></table:table-cell>'
    rows = [["investment_id", "period", "scenario", "amount", "currency", "cost_pool", "line_id"]]
    for i in range(40):
        rows.append([f"INV-{i % 7:04d}", f"2026-{i % 12 + 1:02d}", ["actual", "budget"][i % 2], 1000 + i * 12.5, "EUR", "software", f"L{i}"])
    body = "".join("<table:table-row>" + "".join(cell(v) for v in row) + "</table:table-row>" for row in rows)
    content = ('<?xml version="1.0" encoding="UTF-8"?><office:document-content '
               'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
               'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
               'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
               '<office:body><office:spreadsheet><table:table table:name="Costs">'
               f'{body}</table:table></office:spreadsheet></office:body></office:document-content>')
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
                'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
                '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
                '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
                '</manifest:manifest>')
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype", date_time=(2026, 1, 1, 0, 0, 0)), "application/vnd.oasis.opendocument.spreadsheet", compress_type=zipfile.ZIP_STORED)
        z.writestr(zipfile.ZipInfo("META-INF/manifest.xml", date_time=(2026, 1, 1, 0, 0, 0)), manifest, compress_type=zipfile.ZIP_DEFLATED)
        z.writestr(zipfile.ZipInfo("content.xml", date_time=(2026, 1, 1, 0, 0, 0)), content, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def mutate_xml(text, rng):
    """One structural mutation of an XML part."""
    choice = rng.randrange(12)
    if choice == 0:  # numbers become huge, negative or fractional
        return re.sub(r"\d+", lambda m: rng.choice(["99999999999999999999", "-1", "1e308", "0.1", "4294967296", m.group(0)]), text, count=rng.randrange(1, 50))
    if choice == 1:  # shared-string indexes past the table
        return re.sub(r"(<c [^>]*t=\"s\"[^>]*><v>)(\d+)", lambda m: m.group(1) + str(rng.choice([10**9, 2**32, -5, 65536])), text, count=rng.randrange(1, 20))
    if choice == 2:  # cell types switched
        return re.sub(r"t=\"\w+\"", lambda m: 't="%s"' % rng.choice(["s", "e", "str", "b", "d", "inlineStr", "n", "zz"]), text, count=rng.randrange(1, 30))
    if choice == 3:  # a row repeated many times
        rows = re.findall(r"<row [^>]*>.*?</row>", text, flags=re.S)
        if rows:
            row = rng.choice(rows)
            return text.replace(row, row * rng.choice([2, 100, 5000]), 1)
    if choice == 4:  # absurd dimension and row numbers
        text = re.sub(r"<dimension ref=\"[^\"]*\"", '<dimension ref="A1:XFD1048576"', text)
        return re.sub(r"<row r=\"\d+\"", lambda m: '<row r="%d"' % rng.choice([1048576, 1048577, 0, 2**31]), text, count=rng.randrange(1, 10))
    if choice == 5:  # a very long string
        long = "x" * rng.choice([40000, 1 << 20, 4 << 20])
        return re.sub(r"<t([^>]*)>[^<]*</t>", lambda m: "<t%s>%s</t>" % (m.group(1), long), text, count=1)
    if choice == 6:  # deep nesting
        depth = rng.choice([1000, 100000])
        return text.replace("<sheetData>", "<sheetData>" + "<x>" * depth + "</x>" * depth, 1)
    if choice == 7:  # truncated
        return text[: rng.randrange(len(text) + 1)]
    if choice == 8:  # broken or expanding entities
        return text.replace("&amp;", rng.choice(["&", "&#xFFFFFF;", "&unknown;", "&#0;"]), 3)
    if choice == 9:  # ods repeats
        return re.sub(r"(table:number-(rows|columns)-repeated=\")\d+", lambda m: m.group(1) + str(rng.choice([1048576, 16384, 10**9])), text, count=3) if "table:" in text else text + "<table:table-row table:number-rows-repeated=\"1048576\"/>"
    if choice == 10:  # column references broken
        return re.sub(r"r=\"[A-Z]+(\d+)\"", lambda m: 'r="%s%s"' % (rng.choice(["", "XFE", "AAAAAA", "A"]), m.group(1)), text, count=rng.randrange(1, 20))
    # characters that are not XML
    pos = rng.randrange(len(text) + 1)
    return text[:pos] + rng.choice(["\x00", "\ufffe", "<", "]]>", "\x1b"]) + text[pos:]


def mutate_zip(data, rng):
    try:
        src = zipfile.ZipFile(io.BytesIO(data))
        parts = [(i, src.read(i)) for i in src.infolist()]
    except Exception:
        return mutate_bytes(data, rng)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        xml_parts = [k for k, (info, _) in enumerate(parts) if info.filename.endswith(".xml")]
        targets = set(rng.sample(xml_parts, min(len(xml_parts), rng.randrange(1, 3)))) if xml_parts else set()
        for k, (info, body) in enumerate(parts):
            name = info.filename
            action = rng.random()
            if action < 0.03:
                continue  # part dropped
            if action < 0.05:
                name = name + ".renamed"
            if k in targets:
                text = body.decode("utf-8", "replace")
                for _ in range(rng.randrange(1, 4)):
                    text = mutate_xml(text, rng)
                body = text.encode("utf-8", "replace")
            compression = zipfile.ZIP_STORED if rng.random() < 0.1 else zipfile.ZIP_DEFLATED
            dst.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), body, compress_type=compression)
            if rng.random() < 0.02:
                dst.writestr(zipfile.ZipInfo(name + "2", date_time=(2026, 1, 1, 0, 0, 0)), body)
    data = out.getvalue()
    return mutate_bytes(data, rng) if rng.random() < 0.15 else data


def mutate_bytes(data, rng):
    data = bytearray(data)
    for _ in range(rng.randrange(1, 8)):
        if not data:
            break
        op = rng.randrange(4)
        pos = rng.randrange(len(data))
        if op == 0:
            data[pos] ^= 1 << rng.randrange(8)
        elif op == 1:
            data[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 16)))
        elif op == 2:
            del data[pos : pos + rng.randrange(1, 64)]
        else:
            data[pos] = rng.choice([0x00, 0xFF, 0x7F, 0x80])
    if rng.random() < 0.05:
        data = data[: rng.randrange(len(data) + 1)]
    return bytes(data)


def cap_memory(limit):
    def apply():
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return apply


def config_for(path, entity, sheet):
    return f"""reporting_currency = "EUR"
default_discount_rate = 0.08
warehouse = "w.duckdb"
reports = "reports"
models = "."

[[source]]
name = "fuzzed"
entity = "{entity}"
path = "{path}"
max_reject_rate = 1.0
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", required=True)
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--memory", type=int, default=1 << 30, help="address-space cap in bytes")
    parser.add_argument("--timeout", type=float, default=30)
    parser.add_argument("--seed", action="append", default=[], help="extra seed workbooks")
    parser.add_argument("--random-seed", type=int, default=int(time.time()))
    parser.add_argument("--findings", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "findings"))
    args = parser.parse_args()
    rng = random.Random(args.random_seed)
    binary = os.path.abspath(args.binary)
    work = tempfile.mkdtemp(prefix="itvalue-fuzz-")
    subprocess.run([binary, "sample", "--scale", "0.02", "--seed", "7", "--out", os.path.join(work, "seeds")], check=True, stdout=subprocess.DEVNULL)
    seeds = []
    for name, (entity, sheet) in ENTITIES.items():
        path = os.path.join(work, "seeds", name)
        seeds.append((open(path, "rb").read(), "xlsx", entity, sheet))
    seeds.append((ods_seed(), "ods", "costs", "Costs"))
    for extra in args.seed:
        kind = extra.rsplit(".", 1)[-1].lower()
        seeds.append((open(extra, "rb").read(), kind, "costs", None))
    os.makedirs(args.findings, exist_ok=True)
    deadline = time.time() + args.minutes * 60
    executions = passed = 0
    findings = {}
    codes = {}
    while time.time() < deadline:
        data, kind, entity, sheet = rng.choice(seeds)
        mutated = mutate_bytes(data, rng) if kind == "xlsb" or rng.random() < 0.2 else mutate_zip(data, rng)
        target = os.path.join(work, f"input.{kind}")
        with open(target, "wb") as f:
            f.write(mutated)
        with open(os.path.join(work, "pipeline.toml"), "w") as f:
            f.write(config_for(target, entity, sheet))
        started = time.time()
        try:
            run = subprocess.run([binary, "--quiet", "check", "--config", os.path.join(work, "pipeline.toml")], cwd=work, capture_output=True, timeout=args.timeout, preexec_fn=cap_memory(args.memory))
            code = run.returncode
            last = (run.stderr.decode("utf-8", "replace").strip().splitlines() or [""])[-1][:300]
        except subprocess.TimeoutExpired:
            code, last = "timeout", f"no answer within {args.timeout} s"
        executions += 1
        codes[code] = codes.get(code, 0) + 1
        if executions % 5000 == 0:
            print(f"{executions} executions, {len(findings)} findings, exit codes {dict(sorted(codes.items(), key=str))}", flush=True)
        if code in PASS_CODES:
            passed += 1
            continue
        signature = f"{code}: {re.sub(r'[0-9]+', 'N', last)}"
        if signature not in findings:
            name = os.path.join(args.findings, f"finding-{len(findings) + 1}.{kind}")
            shutil.copy(target, name)
            findings[signature] = name
            print(f"finding {len(findings)} after {executions} executions ({time.time() - started:.1f} s): {signature} -> {name}", flush=True)
    shutil.rmtree(work, ignore_errors=True)
    print(f"executions {executions}, passed {passed}, findings {len(findings)}; exit codes {dict(sorted(codes.items(), key=str))}")
    for signature, name in findings.items():
        print(f"  {signature}  ({name})")
    sys.exit(1 if findings else 0)


if __name__ == "__main__":
    main()
