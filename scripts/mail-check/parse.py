#!/usr/bin/env python3
"""Reads one email (RFC 5322 bytes, from a file or stdin) with Python's
standard `email` package and prints what a mail client would see, as JSON
(with --list and several files: a JSON array, one object per file, in one
process rather than one each):

  headers       top-level headers in order, [name, value decoded (RFC 2047)]
  addresses     for address headers (From, To, ...): the mailboxes the
                parser finds, [display name, addr-spec]
  header_lines  the physical lines of the top-level header block, undecoded
  structure     every part in walk order: [depth, content type]
  parts         every non-multipart part: content type, its parameters,
                disposition, file name, charset, decoded text (or base64 for
                binary parts)
  defects       what the parser had to repair, per part (empty when clean)

Only the standard library: the tests need no install for it.

Header values are decoded with email.header.decode_header, which follows
RFC 2047 6.2 (white space between adjacent encoded-words is dropped);
policy.default's address parser keeps it inside display names (Python 3.11:
"...@examp le.org" for a name split over two encoded-words), so it is used
only for the structure of address headers.
"""

import base64
import email
import email.policy
import json
import sys
from email.header import decode_header, make_header

ADDRESS_HEADERS = {"from", "to", "cc", "bcc", "reply-to", "sender"}


def header_lines(raw: bytes) -> list:
    head = raw.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
    return [line.decode("utf-8", "replace") for line in head.split(b"\n")]


def leaf(part) -> dict:
    params = {k.lower(): str(v) for k, v in part["content-type"].params.items()} if part["content-type"] else {}
    out = {
        "content_type": part.get_content_type(),
        "params": params,
        "disposition": part.get_content_disposition(),
        "filename": part.get_filename(),
        "charset": part.get_content_charset(),
        "transfer_encoding": part.get("content-transfer-encoding"),
        "text": None,
        "base64": None,
    }
    if part.get_content_maintype() == "text":
        out["text"] = part.get_content()
    else:
        payload = part.get_payload(decode=True) or b""
        out["base64"] = base64.b64encode(payload).decode()
        try:
            out["text"] = payload.decode("utf-8")
        except UnicodeDecodeError:
            pass
    return out


def walk(part, depth, structure, parts, defects):
    structure.append([depth, part.get_content_type()])
    defects.extend(f"{part.get_content_type()}: {type(d).__name__}: {d}" for d in part.defects)
    if part.is_multipart():
        for child in part.iter_parts():
            walk(child, depth + 1, structure, parts, defects)
    else:
        parts.append(leaf(part))


def read(raw: bytes) -> dict:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    structure, parts, defects = [], [], []
    walk(msg, 0, structure, parts, defects)
    headers, addresses = [], {}
    for name, raw_value in msg.raw_items():
        parsed = msg.policy.header_fetch_parse(name, raw_value)
        defects.extend(f"header {name}: {type(d).__name__}: {d}" for d in parsed.defects)
        unfolded = raw_value.replace("\r\n", "").replace("\n", "")
        headers.append([name, str(make_header(decode_header(unfolded)))])
        if name.lower() in ADDRESS_HEADERS:
            addresses.setdefault(name.lower(), []).extend(
                [a.display_name, a.addr_spec] for a in parsed.addresses
            )
    return {
        "headers": headers,
        "addresses": addresses,
        "header_lines": header_lines(raw),
        "structure": structure,
        "parts": parts,
        "defects": defects,
    }


def main() -> None:
    args = sys.argv[1:]
    if args[:1] == ["--list"]:
        out = [read(open(path, "rb").read()) for path in args[1:]]
    elif args:
        out = read(open(args[0], "rb").read())
    else:
        out = read(sys.stdin.buffer.read())
    json.dump(out, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
