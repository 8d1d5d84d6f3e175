"""A real SMTP server for tests, on 127.0.0.1, built on aiosmtpd (PyPI).

Every message it accepts is written to DIR as N.eml (the bytes received)
and N.json: the envelope, whether TLS and AUTH were used, and the message
as Python's own `email` package parses and decodes it (headers decoded per
RFC 2047, each MIME part with its type, charset, transfer encoding and
decoded body). Prints `listening on 127.0.0.1:PORT` when ready, then serves
until killed.

    python3 smtp_sink.py --port P --dir DIR [--starttls | --smtps]
        [--cert C --key K] [--user U --password W] [--reply "451 4.3.0 busy"]
"""

import argparse
import email
import email.policy
import json
import os
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def parse(raw):
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    parts = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        parts.append({
            "content_type": part.get_content_type(),
            "charset": part.get_content_charset(),
            "transfer_encoding": part.get("Content-Transfer-Encoding"),
            "body": part.get_content(),
        })
    raw_headers = email.message_from_bytes(raw, policy=email.policy.compat32)
    return {
        "content_type": msg.get_content_type(),
        "headers": {k.lower(): str(v) for k, v in msg.items()},
        "raw_headers": {k.lower(): v for k, v in raw_headers.items()},
        "parts": parts,
    }


class Sink:
    def __init__(self, folder, reply):
        self.folder = folder
        self.reply = reply
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        if self.reply:
            return self.reply
        with self.lock:
            self.count += 1
            n = self.count
        raw = envelope.original_content or envelope.content
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "tls": server.transport.get_extra_info("ssl_object") is not None,
            "auth_user": (session.auth_data.login.decode()
                          if isinstance(session.auth_data, LoginPassword) else None),
            "message": parse(raw),
        }
        with open(os.path.join(self.folder, f"{n}.eml"), "wb") as f:
            f.write(raw)
        tmp = os.path.join(self.folder, f"{n}.json.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False)
        os.replace(tmp, os.path.join(self.folder, f"{n}.json"))
        return f"250 2.0.0 Ok: queued as SINK{n}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--dir", required=True)
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--starttls", action="store_true")
    mode.add_argument("--smtps", action="store_true")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--user")
    ap.add_argument("--password")
    ap.add_argument("--reply")
    args = ap.parse_args()

    ctx = None
    if args.starttls or args.smtps:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(args.cert, args.key)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword)
              and auth_data.login.decode() == args.user
              and auth_data.password.decode() == args.password)
        # handled=False: aiosmtpd answers the failure itself (535).
        return AuthResult(success=ok, handled=ok, auth_data=auth_data)

    kwargs = {}
    if args.user:
        kwargs.update(authenticator=authenticator, auth_required=True,
                      auth_require_tls=bool(ctx))
    if args.starttls:
        kwargs.update(tls_context=ctx, require_starttls=True)
    controller = Controller(
        Sink(args.dir, args.reply), hostname="127.0.0.1", port=args.port,
        ssl_context=ctx if args.smtps else None, server_kwargs=kwargs,
    )
    controller.start()
    print(f"listening on 127.0.0.1:{args.port}", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    sys.exit(main())
