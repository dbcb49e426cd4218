# The test SMTP server (aiosmtpd, started by stack/smtp.ts): accepts mail on loopback and appends each message as one JSON line to a file.
import asyncio
import hmac
import json
import logging
import signal
import ssl
import sys
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

# Read from a file in the server's private folder, not argv, so the password is not in `ps`.
with open(sys.argv[1], encoding="utf-8") as f:
    config = json.load(f)

mode = config["tls"]  # 'none' | 'starttls' | 'implicit'
auth = config.get("auth")
refused = {address.lower() for address in config.get("refuse", [])}
mailbox = config["mailbox"]


class Handler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        # Compared case-insensitively: a test refusing "Ops@Example.com" means that mailbox however it is spelt.
        if address.lower() in refused:
            return f"550 5.1.1 <{address}>: recipient address rejected"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        # Whether this session is TLS, asked of the transport: aiosmtpd sets session.ssl only after STARTTLS, not for implicit TLS.
        tls = server.transport.get_extra_info("ssl_object") is not None
        host, port = session.peer[:2]
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            # The message as the client sent it (dot-unstuffed), before any decoding by aiosmtpd.
            "data": envelope.original_content.decode("utf-8", errors="replace"),
            "peer": f"{host}:{port}",
            "tls": tls,
            "auth_user": session.auth_data if session.authenticated else None,
        }
        # Written and closed before the 250 goes out, so a client that saw its message accepted finds the whole line.
        with open(mailbox, "a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")
        return "250 OK: message accepted"


def authenticator(server, session, envelope, mechanism, auth_data):
    # PLAIN and LOGIN both hand over a LoginPassword; anything else is not a credential we know.
    if not isinstance(auth_data, LoginPassword):
        return AuthResult(success=False, handled=False)
    login = auth_data.login.decode("utf-8", errors="replace")
    ok = hmac.compare_digest(auth_data.login, auth["user"].encode()) & hmac.compare_digest(auth_data.password, auth["password"].encode())
    # handled=False makes aiosmtpd answer the failure itself: 535 5.7.8 Authentication credentials invalid.
    return AuthResult(success=True, auth_data=login) if ok else AuthResult(success=False, handled=False)


def tls_context():
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(config["cert"], config["key"])
    return context


def factory():
    kwargs = {}
    if mode == "starttls":
        kwargs.update(tls_context=tls_context(), require_starttls=True)
    if auth:
        kwargs.update(
            authenticator=authenticator,
            auth_required=True,
            # aiosmtpd counts only STARTTLS as TLS: with implicit TLS, auth_require_tls=True would never offer AUTH
            # though the session is encrypted; with no TLS at all it could never be offered either.
            auth_require_tls=(mode == "starttls"),
        )
    # hostname given so aiosmtpd does not look up the machine's FQDN (a DNS query per connection).
    return SMTP(Handler(), hostname="localhost", enable_SMTPUTF8=True, **kwargs)


async def main():
    loop = asyncio.get_running_loop()
    server = await loop.create_server(factory, "127.0.0.1", config["port"], ssl=tls_context() if mode == "implicit" else None)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    logging.info("listening on 127.0.0.1:%d (tls %s, auth %s)", config["port"], mode, "required" if auth else "off")
    await stop.wait()
    server.close()


# aiosmtpd warns that AUTH without auth_require_tls is unsafe; here that is the implicit-TLS case, which is encrypted.
warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
asyncio.run(main())
