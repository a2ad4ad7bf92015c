#!/usr/bin/env python3
"""An SMTP server for the tests: accepts mail over TCP on loopback (aiosmtpd)
and stores every accepted message in a folder, with failures on demand.

    server.py --dir DIR [--port PORT] [--tls none|starttls|implicit --ca-out FILE] [--auth USER:PASSWORD]

Prints `port N` on the first line of standard output once it listens (PORT 0,
the default, lets the system choose). Each accepted message is written as
DIR/NNNNNN.eml (the bytes received) and then DIR/NNNNNN.json (Message-ID,
Subject, envelope sender and recipients, read with Python's `email` package);
both appear by rename, so a reader that lists the .json files sees whole
messages only.

With --tls, it makes a throwaway certificate authority (trustme), writes the
authority's certificate to the --ca-out file before printing its port, and
serves a certificate for 127.0.0.1 and localhost signed by it: STARTTLS
(offered and required before MAIL) or TLS from the first byte. With --auth,
MAIL needs AUTH (PLAIN or LOGIN) with that user and password first; a wrong
one is answered 535. The .json of each message also says whether it came over
TLS (`tls`) and as which user (`auth_user`, null without AUTH).

It is steered through standard input, one command per line, each answered by
one line on standard output (`ok ...`, or `error ...`):

    fail_next N CODE [rcpt|data]  answer CODE to the next N RCPT (default) or DATA commands
    reject ADDRESS [CODE]         answer CODE (default 550; a 4xx: try later) to RCPT TO:<ADDRESS>, always
    delay SECONDS                 after storing a message, wait this long before the 250 reply
    stop                          close the listening socket and every open connection
                                  (clients are refused, as by a server that is down)
    start                         listen again on the same port
    reset                         forget failures, rejections and delay
    stats                         `ok rcpt=N data=N stored=N refused=N`

It exits when standard input closes, so it never outlives the test that started it.
"""

import argparse
import asyncio
import email
import email.policy
import json
import logging
import os
import socket
import sys
import threading

from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, directory):
        self.directory = directory
        self.sequence = 0
        self.fail = {"rcpt": [0, 451], "data": [0, 451]}
        self.rejected = {}
        self.delay = 0.0
        self.counts = {"rcpt": 0, "data": 0, "stored": 0, "refused": 0}

    def _failure(self, stage):
        left, code = self.fail[stage]
        if left > 0:
            self.fail[stage][0] = left - 1
            self.counts["refused"] += 1
            if code >= 500:
                return f"{code} 5.7.1 refused by the test ({stage})"
            return f"{code} 4.7.1 try again later (test, {stage})"
        return None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.counts["rcpt"] += 1
        code = self.rejected.get(address.lower())
        if code is not None:
            self.counts["refused"] += 1
            if code >= 500:
                return f"{code} 5.1.1 <{address}>: mailbox unavailable (test)"
            return f"{code} 4.2.0 <{address}>: mailbox busy, try again later (test)"
        failure = self._failure("rcpt")
        if failure:
            return failure
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.counts["data"] += 1
        failure = self._failure("data")
        if failure:
            return failure
        self.store(envelope, server, session)
        if self.delay > 0:
            # Stored first: a client that dies while waiting for the reply has
            # delivered a message it cannot know about (the duplicate case).
            await asyncio.sleep(self.delay)
        return "250 OK stored"

    def store(self, envelope, server, session):
        self.sequence += 1
        stem = os.path.join(self.directory, f"{self.sequence:06d}")
        raw = envelope.original_content or b""
        message = email.message_from_bytes(raw, policy=email.policy.default)
        facts = {
            "message_id": str(message.get("Message-ID", "")).strip(),
            "subject": str(message.get("Subject", "")),
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "tls": server.transport.get_extra_info("ssl_object") is not None,
            "auth_user": login(session),
        }
        for suffix, data in ((".eml", raw), (".json", json.dumps(facts).encode())):
            with open(stem + suffix + ".tmp", "wb") as f:
                f.write(data)
            os.replace(stem + suffix + ".tmp", stem + suffix)
        self.counts["stored"] += 1


def login(session):
    """The user the session authenticated as, or None."""
    login_password = session.auth_data if session.authenticated else None
    data = getattr(login_password, "login", None)
    if data is None:
        return None
    return data.decode() if isinstance(data, bytes) else str(data)


class Security:
    """TLS and AUTH as the command line asks: a test CA's certificate, a user."""

    def __init__(self, tls, ca_out, auth):
        self.tls = tls
        self.context = None
        if tls != "none":
            import ssl

            import trustme

            authority = trustme.CA()
            certificate = authority.issue_cert("127.0.0.1", "localhost")
            self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            certificate.configure_cert(self.context)
            authority.cert_pem.write_to_path(ca_out)
        self.user, self.password = (auth.split(":", 1) + [None])[:2] if auth else (None, None)

    def session_options(self):
        options = {}
        if self.tls == "starttls":
            options.update(tls_context=self.context, require_starttls=True)
        if self.user is not None:
            user, password = self.user.encode(), self.password.encode()

            def authenticator(server, session, envelope, mechanism, auth_data):
                from aiosmtpd.smtp import AuthResult

                ok = auth_data.login == user and auth_data.password == password
                return AuthResult(success=ok, handled=False, auth_data=auth_data)

            # Implicit TLS is TLS from the first byte, which aiosmtpd's own
            # check (STARTTLS seen) does not know about: it warns, wrongly here.
            import warnings

            warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS")
            logging.getLogger("mail.log").setLevel(logging.ERROR)
            options.update(
                authenticator=authenticator,
                auth_required=True,
                auth_require_tls=self.tls == "starttls",
            )
        return options

    def server_ssl(self):
        return self.context if self.tls == "implicit" else None


def quickack(transport):
    sock = transport.get_extra_info("socket") if transport is not None else None
    option = getattr(socket, "TCP_QUICKACK", None)
    if sock is not None and option is not None:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, option, 1)
        except OSError:
            pass


class Listener:
    def __init__(self, sink, host, port, security):
        self.sink = sink
        self.security = security
        self.host = host
        self.port = port
        self.server = None
        self.sessions = set()

    def _protocol(self):
        listener = self

        class Session(SMTP):
            def connection_made(self, transport):
                listener.sessions.add(self)
                super().connection_made(transport)

            def connection_lost(self, error):
                listener.sessions.discard(self)
                super().connection_lost(error)

            def data_received(self, data):
                # Acknowledge at once: clients (lettre) write the final
                # "\r\n.\r\n" apart from the message, and Nagle's algorithm
                # holds it until the previous segment is acknowledged; a
                # delayed ACK would add some 40 ms to every message. Linux
                # clears QUICKACK by itself, so it is set again on each read.
                quickack(self.transport)
                super().data_received(data)

        # A fixed hostname: the default looks up the FQDN, slow on some hosts.
        return Session(
            self.sink,
            hostname="smtp-sink",
            enable_SMTPUTF8=True,
            **self.security.session_options(),
        )

    async def start(self):
        if self.server is None:
            loop = asyncio.get_running_loop()
            self.server = await loop.create_server(
                self._protocol,
                self.host,
                self.port,
                reuse_address=True,
                ssl=self.security.server_ssl(),
            )
            self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self):
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None
        for session in list(self.sessions):
            if session.transport is not None:
                session.transport.abort()
        self.sessions.clear()


async def control(sink, listener):
    loop = asyncio.get_running_loop()
    lines = asyncio.Queue()

    def read_stdin():
        for line in sys.stdin:
            loop.call_soon_threadsafe(lines.put_nowait, line)
        loop.call_soon_threadsafe(lines.put_nowait, None)

    threading.Thread(target=read_stdin, daemon=True).start()
    while True:
        line = await lines.get()
        if line is None:
            return
        words = line.split()
        if not words:
            continue
        try:
            answer = await command(sink, listener, words)
        except (ValueError, IndexError, KeyError) as e:
            answer = f"error {line.strip()}: {e!r}"
        print(answer, flush=True)


async def command(sink, listener, words):
    name, args = words[0], words[1:]
    if name == "fail_next":
        stage = args[2] if len(args) > 2 else "rcpt"
        sink.fail[stage] = [int(args[0]), int(args[1])]
    elif name == "reject":
        sink.rejected[args[0].lower()] = int(args[1]) if len(args) > 1 else 550
    elif name == "delay":
        sink.delay = float(args[0])
    elif name == "stop":
        await listener.stop()
    elif name == "start":
        await listener.start()
    elif name == "reset":
        sink.fail = {"rcpt": [0, 451], "data": [0, 451]}
        sink.rejected = {}
        sink.delay = 0.0
    elif name == "stats":
        return "ok " + " ".join(f"{k}={v}" for k, v in sink.counts.items())
    else:
        return f"error unknown command {name}"
    return f"ok {name}"


async def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dir", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--tls", choices=["none", "starttls", "implicit"], default="none")
    parser.add_argument("--ca-out", help="where to write the test CA's certificate (with --tls)")
    parser.add_argument("--auth", help="USER:PASSWORD that MAIL requires")
    options = parser.parse_args()
    if options.tls != "none" and not options.ca_out:
        parser.error("--tls needs --ca-out")
    os.makedirs(options.dir, exist_ok=True)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    sink = Sink(options.dir)
    security = Security(options.tls, options.ca_out, options.auth)
    listener = Listener(sink, options.host, options.port, security)
    await listener.start()
    print(f"port {listener.port}", flush=True)
    await control(sink, listener)
    await listener.stop()


if __name__ == "__main__":
    asyncio.run(main())
