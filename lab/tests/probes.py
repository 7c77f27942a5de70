"""Checks the lab tests share."""
import socket
import urllib.parse


def port_open(url):
    """True when something accepts connections at ``url``'s host and port (a server that should be gone is not)."""
    host, port = urllib.parse.urlsplit(url).netloc.split(":")
    sock = socket.socket()
    sock.settimeout(1)
    try:
        return sock.connect_ex((host, int(port))) == 0
    finally:
        sock.close()
