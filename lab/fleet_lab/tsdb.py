"""Prometheus TSDB block indexes, read and written in Python, so one backfilled environment becomes N.

A lab of N fleet environments needs the metric history of each, under its own namespace (and pod names). Every
environment runs the same scenario, so their samples are the same: only the labels differ. Rather than have
``promtool`` build N times the data (a few seconds per environment), the lab builds the first environment's
blocks and rewrites each block's ``index``: every series once per environment, with the environment's label
values, all pointing at the same chunks (a chunk is read by its reference; nothing requires a chunk to belong to
one series). The chunks files are untouched, so an index of N environments costs well under a second.

The format (``tsdb/docs/format/index.md`` in the Prometheus repository; version 2, as Prometheus 2.x writes it):
symbol table, series (16-byte aligned, id = offset / 16), label indices, postings (4-byte aligned), label offset
table, postings offset table, TOC; every section with a length and a CRC32 (Castagnoli). ``write_index`` lays the
sections out as Prometheus 2.42's writer does; ``read_index`` reads the symbol table and the series, which is all
a rewrite needs.
"""
import json
import os
import struct

MAGIC = 0xBAAAD700
FORMAT_V2 = 2
SERIES_ALIGN = 16


def _crc32c_table():
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _crc32c_table()


def crc32c(data):
    """CRC32 with the Castagnoli polynomial, as Go's ``crc32.MakeTable(crc32.Castagnoli)``."""
    crc = 0xFFFFFFFF
    table = _TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _uvarint(n):
    if n < _SMALL:
        return _UVARINTS[n]
    return _uvarint_slow(n)


def _uvarint_slow(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


_SMALL = 1 << 14
_UVARINTS = [_uvarint_slow(n) for n in range(_SMALL)]


def _varint(n):
    return _uvarint((n << 1) ^ (n >> 63) if n < 0 else n << 1)


def _read_uvarint(buf, pos):
    shift = result = 0
    while True:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7


def _read_varint(buf, pos):
    n, pos = _read_uvarint(buf, pos)
    return (n >> 1) ^ -(n & 1), pos


def _str(s):
    b = s.encode()
    return _uvarint(len(b)) + b


class IndexError_(ValueError):
    """An index this module cannot read (not version 2, or damaged)."""


def read_index(path):
    """-> list of ``(labels, chunks)``: ``labels`` a tuple of (name, value) sorted by name, ``chunks`` a list of
    (mint, maxt, ref), in the index's (sorted) order."""
    with open(path, "rb") as handle:
        buf = handle.read()
    if len(buf) < 57 or struct.unpack(">I", buf[:4])[0] != MAGIC or buf[4] != FORMAT_V2:
        raise IndexError_("%s: not a version 2 TSDB index" % path)
    toc = struct.unpack(">6Q", buf[-52:-4])
    if crc32c(buf[-52:-4]) != struct.unpack(">I", buf[-4:])[0]:
        raise IndexError_("%s: TOC checksum mismatch" % path)
    sym_off, series_off, series_end = toc[0], toc[1], toc[2]
    length, count = struct.unpack(">II", buf[sym_off:sym_off + 8])
    symbols = []
    pos = sym_off + 8
    for _ in range(count):
        n, pos = _read_uvarint(buf, pos)
        symbols.append(buf[pos:pos + n].decode())
        pos += n
    out = []
    pos = series_off
    while True:
        pos = -(-pos // SERIES_ALIGN) * SERIES_ALIGN  # entries start on 16-byte boundaries
        if pos >= series_end:
            break
        size, start = _read_uvarint(buf, pos)
        end = start + size
        n_labels, p = _read_uvarint(buf, start)
        labels = []
        for _ in range(n_labels):
            name, p = _read_uvarint(buf, p)
            value, p = _read_uvarint(buf, p)
            labels.append((symbols[name], symbols[value]))
        n_chunks, p = _read_uvarint(buf, p)
        chunks = []
        if n_chunks:
            mint, p = _read_varint(buf, p)
            delta, p = _read_uvarint(buf, p)
            ref, p = _read_uvarint(buf, p)
            maxt = mint + delta
            chunks.append((mint, maxt, ref))
            for _ in range(n_chunks - 1):
                gap, p = _read_uvarint(buf, p)
                delta, p = _read_uvarint(buf, p)
                dref, p = _read_varint(buf, p)
                mint = maxt + gap
                maxt = mint + delta
                ref += dref
                chunks.append((mint, maxt, ref))
        if p != end:
            raise IndexError_("%s: series entry at %d has %d bytes, read %d" % (path, pos, size, p - start))
        out.append((tuple(labels), chunks))
        pos = end + 4
    return out


class _Out(object):
    def __init__(self):
        self.parts = []
        self.pos = 0

    def write(self, data):
        self.parts.append(data)
        self.pos += len(data)

    def pad(self, align):
        if self.pos % align:
            self.write(b"\0" * (align - self.pos % align))

    def section(self, body):
        """``len <4b> | body | CRC32 <4b>``; returns its offset."""
        start = self.pos
        self.write(struct.pack(">I", len(body)))
        self.write(body)
        self.write(struct.pack(">I", crc32c(body)))
        return start


def write_index(path, series):
    """Write a version 2 index of ``series`` (``(labels, chunks)`` as ``read_index`` returns them; sorted here) to
    ``path``. Returns (series, chunks) counts."""
    series = sorted(series, key=lambda s: s[0])
    for a, b in zip(series, series[1:]):
        if a[0] == b[0]:
            raise ValueError("two series with the labels %r" % (a[0],))
    strings = {""}  # Prometheus' writers always have the empty string
    for labels, _chunks in series:
        for name, value in labels:
            strings.add(name)
            strings.add(value)
    symbols = sorted(strings, key=lambda s: s.encode())
    ref = {s: i for i, s in enumerate(symbols)}
    out = _Out()
    out.write(struct.pack(">IB", MAGIC, FORMAT_V2))
    toc = {"symbols": out.section(struct.pack(">I", len(symbols)) + b"".join(_str(s) for s in symbols))}
    # series (the TOC points where the symbols end, before the padding, as Prometheus' writer does)
    toc["series"] = out.pos
    postings = {}  # (name, value) -> [series id]
    pairs = {}  # (name, value) -> its encoding
    encoded_chunks = {}  # id(chunks) -> their encoding (environments share the same chunk lists)
    ids = []
    n_chunks = 0
    for labels, chunks in series:
        out.pad(SERIES_ALIGN)
        sid = out.pos // SERIES_ALIGN
        ids.append(sid)
        body = [_uvarint(len(labels))]
        for pair in labels:
            encoded = pairs.get(pair)
            if encoded is None:
                encoded = pairs[pair] = _uvarint(ref[pair[0]]) + _uvarint(ref[pair[1]])
                postings[pair] = []
            body.append(encoded)
            postings[pair].append(sid)
        key = id(chunks)
        encoded = encoded_chunks.get(key)
        if encoded is None:
            encoded = [_uvarint(len(chunks))]
            if chunks:
                mint, maxt, cref = chunks[0]
                encoded.append(_varint(mint) + _uvarint(maxt - mint) + _uvarint(cref))
                for c_mint, c_maxt, c_ref in chunks[1:]:
                    encoded.append(_uvarint(c_mint - maxt) + _uvarint(c_maxt - c_mint) + _varint(c_ref - cref))
                    maxt, cref = c_maxt, c_ref
            encoded = encoded_chunks[key] = (b"".join(encoded), chunks)  # chunks kept: id() stays unique
        body.append(encoded[0])
        n_chunks += len(chunks)
        body = b"".join(body)
        out.write(_uvarint(len(body)))
        out.write(body)
        out.write(struct.pack(">I", crc32c(body)))
    # label indices: per label name, its values (by symbol reference)
    values = {}
    for name, value in postings:
        values.setdefault(name, []).append(value)
    names = sorted(values, key=lambda s: s.encode())
    label_offsets = []
    toc["label_indices"] = out.pos
    for name in names:
        out.pad(4)
        refs = sorted(ref[v] for v in values[name])
        label_offsets.append((name, out.section(struct.pack(">II", 1, len(refs)) +
                                               b"".join(struct.pack(">I", r) for r in refs))))
    # postings: all series first, then each label pair in order
    out.pad(4)
    toc["postings"] = out.pos
    posting_offsets = []
    keys = [("", "")] + sorted(postings, key=lambda k: (k[0].encode(), k[1].encode()))
    for key in keys:
        out.pad(4)
        refs = ids if key == ("", "") else postings[key]
        posting_offsets.append((key, out.section(struct.pack(">I", len(refs)) +
                                                 b"".join(struct.pack(">I", r) for r in refs))))
    # label offset table, postings offset table, TOC
    toc["label_table"] = out.section(struct.pack(">I", len(label_offsets)) + b"".join(
        _uvarint(1) + _str(name) + _uvarint(off) for name, off in label_offsets))
    toc["postings_table"] = out.section(struct.pack(">I", len(posting_offsets)) + b"".join(
        _uvarint(2) + _str(name) + _str(value) + _uvarint(off) for (name, value), off in posting_offsets))
    body = struct.pack(">6Q", toc["symbols"], toc["series"], toc["label_indices"], toc["label_table"],
                       toc["postings"], toc["postings_table"])
    out.write(body + struct.pack(">I", crc32c(body)))
    tmp = path + ".tmp"
    with open(tmp, "wb") as handle:
        for part in out.parts:
            handle.write(part)
    os.replace(tmp, path)
    return len(series), n_chunks


def multiply_block(block_dir, relabels):
    """Rewrite the index of ``block_dir`` so that each series appears once per function of ``relabels``
    (``relabel(labels) -> labels``; the first is usually the identity), sharing the series' chunks; update
    ``meta.json``'s stats. Returns the number of series written."""
    index = os.path.join(block_dir, "index")
    base = read_index(index)
    series = []
    for relabel in relabels:
        for labels, chunks in base:
            series.append((tuple(sorted(relabel(labels))), chunks))
    n_series, n_chunks = write_index(index, series)
    meta_path = os.path.join(block_dir, "meta.json")
    with open(meta_path) as handle:
        meta = json.load(handle)
    stats = meta.setdefault("stats", {})
    stats["numSamples"] = int(stats.get("numSamples", 0)) * len(relabels)
    stats["numSeries"] = n_series
    stats["numChunks"] = n_chunks
    with open(meta_path + ".tmp", "w") as handle:
        json.dump(meta, handle, indent="\t")
    os.replace(meta_path + ".tmp", meta_path)
    return n_series


def blocks(data_dir):
    """The block directories of a TSDB data directory (those with a meta.json)."""
    if not os.path.isdir(data_dir):
        return []
    return sorted(os.path.join(data_dir, d) for d in os.listdir(data_dir)
                  if os.path.isfile(os.path.join(data_dir, d, "meta.json")))
