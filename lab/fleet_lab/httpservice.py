"""A lab HTTP service on loopback: a threaded server on a free port, started on a daemon thread, stopped with
its socket closed. The Sentry stand-in, the paging/chat sink and the Prometheus proxy are such services.

Each has a fault registry (``self.faults``, a ``fleet_lab.faults.Faults``; the lab daemon passes one shared by
every component) and answers the faults of its ``name`` as component: its server resets connections a ``refuse``
fault matches; its request handler (with ``FaultHandlerMixin``) answers ``status``, ``stall`` and ``hang``."""
import threading

from fleet_lab.faults import Faults, FaultyHTTPServer


class LoopbackService(object):
    """Base of a lab service: subclasses pass the name and their request handler class to ``__init__``."""

    def __init__(self, name, handler, host="127.0.0.1", port=0, faults=None):
        self.name = name
        self.lock = threading.Lock()
        self.faults = faults if faults is not None else Faults()
        self.httpd = FaultyHTTPServer((host, port), handler)
        self.httpd.faults = self.faults
        self.httpd.component = name
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
