# -*- coding: utf-8 -*-
# Copyright: (c) 2026, guestready.gce contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An lzo-compressed initramfs segment unpacked as the kernel unpacks it,
in Python (no ``lzop`` command needed).

The kernel's lzo initramfs is lzop's file format, read by
lib/decompress_unlzo.c: a header (``parse_header``), then blocks, each a
32-bit big-endian uncompressed length (0 ends the stream; more than 256 KiB
is an error), a compressed length (0, or more than the uncompressed one, is
an error) and one 32-bit checksum the kernel skips unread -- whatever the
header's flags say: lzop's default (one checksum of the uncompressed data)
is the only layout it reads.  A block whose two lengths are equal is stored;
the others are LZO1X, decompressed as lib/lzo/lzo1x_decompress_safe.c does.

``Decompressor`` has the interface of ``lzma.LZMADecompressor``
(``decompress(data, max_length)``, ``eof``, ``needs_input``,
``unused_data``); corrupt data raises ``LzoError`` (a ValueError) saying
what is wrong, as the kernel's message does.
"""

import struct

MAGIC = b"\x89LZO\x00\r\n\x1a\n"
BLOCK_SIZE = 256 * 1024          # LZO_BLOCK_SIZE
HEADER_HAS_FILTER = 0x00000800
HEADER_SIZE_MIN = 9 + 7 + 4 + 8 + 1 + 4
HEADER_SIZE_MAX = 9 + 7 + 1 + 8 + 8 + 4 + 1 + 255 + 4
M2_MAX_OFFSET = 0x0800


class LzoError(ValueError):
    """Corrupt lzo data; the message says what the kernel would say."""


class _More(Exception):
    """More input is needed."""


def header_length(data):
    """The length of the lzop header at the start of ``data``, parsed as
    decompress_unlzo.c's ``parse_header`` does (version 0x0940 on has a level
    byte and an mtime_high field, the filter flag 4 more bytes; the file
    name and the header checksum are skipped unread); _More when ``data``
    ends inside it; LzoError when it is no lzop header."""
    if data[:len(MAGIC)] != MAGIC[:len(data)]:
        raise LzoError("invalid header: no lzop magic")
    if len(data) < HEADER_SIZE_MIN:
        raise _More()
    parse = 9
    version = struct.unpack(">H", data[parse:parse + 2])[0]
    parse += 7                    # version, library version, version needed, method
    if version >= 0x0940:
        parse += 1                # level
    flags = _be32(data, parse)
    parse += 8 if flags & HEADER_HAS_FILTER else 4
    parse += 8                    # mode, mtime_low
    if version >= 0x0940:
        parse += 4                # mtime_high
    if len(data) < parse + 1:
        raise _More()
    parse += 1 + data[parse] + 4  # the file name, then the header checksum
    if len(data) < parse:
        raise _More()
    return parse


def _be32(data, offset):
    if len(data) < offset + 4:
        raise _More()
    return struct.unpack(">I", data[offset:offset + 4])[0]


def lzo1x_decompress(data, size):
    """The ``size`` bytes LZO1X data ``data`` decompresses to, as
    lib/lzo/lzo1x_decompress_safe.c checks it (no read before the output's
    start, none past the input's end, no output past ``size``, the end
    marker, all input used); LzoError otherwise."""
    try:
        out = _lzo1x(data, size)
    except IndexError:
        raise LzoError("Compressed data violation (input overrun)")
    if len(out) != size:
        raise LzoError("Compressed data violation (%d bytes instead of %d)" % (len(out), size))
    return out


def _lzo1x(data, size):
    out = bytearray()
    ip, end = 0, len(data)
    if end < 3:
        raise LzoError("Compressed data violation (input overrun)")
    if end >= 5 and data[0] == 17:
        # the kernel's LZO-RLE marker: lzop never writes it (17 starts no LZO1X stream)
        if data[1]:
            raise LzoError("Compressed data violation (an LZO-RLE stream, which lzop does not write)")
        ip = 2
    state = 0
    first = data[ip]
    if first > 17:
        ip += 1
        count = first - 17
        if count < 4:
            state = count
            out += data[ip:ip + count]
            ip += count
        else:
            out += data[ip:ip + count]
            ip += count
            state = 4
        if ip > end:
            raise IndexError()
        if len(out) > size:
            raise LzoError("Compressed data violation (output overrun)")
    while True:
        t = data[ip]
        ip += 1
        if t < 16:
            if state == 0:
                # a literal run
                if t == 0:
                    start = ip
                    while data[ip] == 0:
                        ip += 1
                    t = 255 * (ip - start) + 15 + data[ip]
                    ip += 1
                count = t + 3
                if ip + count > end:
                    raise IndexError()
                out += data[ip:ip + count]
                ip += count
                if len(out) > size:
                    raise LzoError("Compressed data violation (output overrun)")
                state = 4
                continue
            if state != 4:
                # two bytes close by
                nxt = t & 3
                distance = 1 + (t >> 2) + (data[ip] << 2)
                ip += 1
                length = 2
            else:
                nxt = t & 3
                distance = 1 + M2_MAX_OFFSET + (t >> 2) + (data[ip] << 2)
                ip += 1
                length = 3
        elif t >= 64:
            nxt = t & 3
            distance = 1 + ((t >> 2) & 7) + (data[ip] << 3)
            ip += 1
            length = (t >> 5) + 1
        elif t >= 32:
            length = (t & 31) + 2
            if length == 2:
                start = ip
                while data[ip] == 0:
                    ip += 1
                length += 255 * (ip - start) + 31 + data[ip]
                ip += 1
            word = data[ip] | data[ip + 1] << 8
            ip += 2
            distance = 1 + (word >> 2)
            nxt = word & 3
        else:
            high = (t & 8) << 11
            length = (t & 7) + 2
            if length == 2:
                start = ip
                while data[ip] == 0:
                    ip += 1
                length += 255 * (ip - start) + 7 + data[ip]
                ip += 1
            word = data[ip] | data[ip + 1] << 8
            ip += 2
            nxt = word & 3
            distance = high + (word >> 2)
            if distance == 0:
                # the end marker: lzo1x_decompress_safe's eof_found
                if length != 3:
                    raise LzoError("Compressed data violation (bad end marker)")
                if ip < end:
                    raise LzoError("Compressed data violation (input not consumed)")
                return bytes(out)
            distance += 0x4000
        position = len(out) - distance
        if position < 0:
            raise LzoError("Compressed data violation (lookbehind overrun)")
        if len(out) + length > size:
            raise LzoError("Compressed data violation (output overrun)")
        if distance >= length:
            out += out[position:position + length]
        else:
            # an overlapping copy repeats the last ``distance`` bytes
            pattern = out[position:]
            out += (pattern * (length // distance + 1))[:length]
        state = nxt
        if nxt:
            if ip + nxt > end:
                raise IndexError()
            out += data[ip:ip + nxt]
            ip += nxt
            if len(out) > size:
                raise LzoError("Compressed data violation (output overrun)")


def _block(dst_len, src_len):
    """``src_len`` when a block of these lengths is one the kernel reads, else LzoError."""
    if dst_len > BLOCK_SIZE:
        raise LzoError("dest len longer than block size (%d bytes)" % dst_len)
    if src_len == 0 or src_len > dst_len:
        raise LzoError("file corrupted (a block of %d bytes claims %d compressed)" % (dst_len, src_len))
    return src_len


def stream_length(handle, offset, size):
    """The length of the lzop stream at ``offset`` of the open file
    ``handle`` (``size`` bytes long), walked from its header and block
    lengths as the kernel reads them, without decompressing (its ``posp``:
    where the next segment starts); None when it does not end inside the
    file; LzoError when the kernel would reject its header or a block's lengths."""
    handle.seek(offset)
    try:
        position = offset + header_length(handle.read(HEADER_SIZE_MAX))
    except _More:
        return None
    while position + 4 <= size:
        handle.seek(position)
        lengths = handle.read(8)
        dst_len = _be32(lengths, 0)
        if dst_len == 0:
            return position + 4 - offset
        if len(lengths) < 8:
            return None
        position += 12 + _block(dst_len, _be32(lengths, 4))
    return None


class Decompressor(object):
    """One lzop stream, fed in pieces (``lzma.LZMADecompressor``'s interface)."""

    def __init__(self):
        self.buf = bytearray()
        self.out = bytearray()
        self.started = False
        self.eof = False
        self.needs_input = True
        self.unused_data = b""

    def decompress(self, data, max_length=-1):
        if self.eof:
            raise EOFError("already at the end of the lzo stream")
        self.buf += data
        stalled = False
        while not self.eof and (max_length < 0 or len(self.out) < max_length):
            try:
                self._step()
            except _More:
                stalled = True
                break
        if max_length < 0:
            max_length = len(self.out)
        result = bytes(self.out[:max_length])
        del self.out[:max_length]
        # more input is needed only when what is buffered holds no whole block
        self.needs_input = stalled and not self.out
        return result

    def _step(self):
        """Parse the header or one block from ``buf``; _More when it is not all there."""
        if not self.started:
            length = header_length(bytes(self.buf[:HEADER_SIZE_MAX]))
            del self.buf[:length]
            self.started = True
            return
        dst_len = _be32(self.buf, 0)
        if dst_len == 0:
            # the last block: what follows is the next segment (or padding)
            self.eof = True
            self.unused_data = bytes(self.buf[4:])
            del self.buf[:]
            return
        src_len = _block(dst_len, _be32(self.buf, 4))
        if len(self.buf) < 12 + src_len:
            raise _More()
        block = bytes(self.buf[12:12 + src_len])   # the checksum in between is skipped, as the kernel does
        del self.buf[:12 + src_len]
        self.out += block if src_len == dst_len else lzo1x_decompress(block, dst_len)
