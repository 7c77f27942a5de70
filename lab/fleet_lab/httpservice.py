"""A lab HTTP service on loopback: a threaded server on a free port, started on a daemon thread, stopped with
its socket closed. The Sentry stand-in and the paging/chat sink are such services."""
import threading
from http.server import ThreadingHTTPServer


class LoopbackService(object):
    """Base of a lab service: subclasses pass the name and their request handler class to ``__init__``."""

    def __init__(self, name, handler, host="127.0.0.1", port=0):
        self.name = name
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self.thread = None

    @property
    def url(self):
        host, port = self.httpd.server_address[:2]
        return "http://%s:%d" % (host, port)

    def start(self):
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.1,), name=self.name, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        if self.thread:
            self.thread.join(5)
