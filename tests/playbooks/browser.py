"""The HTML report as a person sees it: Debian's headless Chromium, driven by Playwright for Python.

``ReportBrowser.check(html, name, expect)`` opens a report as a file:// URL at a few viewport widths and returns
what a reader would find wrong, as sentences (an empty list when nothing is):

- a console error or warning, an uncaught page error, a failed request, or any request that leaves the file
  (the report must work offline and inside an AWX artifact: no CDN, no web font, no image from elsewhere);
- the page wider than the viewport (``document.documentElement.scrollWidth > innerWidth``);
- a selector of ``expect`` missing (or found a different number of times than asked);
- two text boxes that intersect by more than a pixel each way: every line of every HTML text node
  (``Range.getClientRects``) and every SVG ``text``/``tspan`` (``getBoundingClientRect``) against every other;
- SVG text that crosses a chart mark (any SVG element with class ``mark``: a bar, a dot) or that sticks out of
  its ``svg`` (it would be cut off);
- a short word (2 to 12 letters or digits) split over lines: a column squeezed to a few letters.

These checks know nothing about the report's sections, so they hold for sections added later. A full-page
screenshot of each width is kept as tests/output/reports/<name>-<width>.png for people to look at; each
time-series chart's DOM (data attributes, the SVG coordinates of its line and its SLO or limit line) is in
``Check.charts`` for tests to assert on.

The browser is never downloaded: scripts/bootstrap.sh installs Debian's chromium-headless-shell (or chromium),
and Playwright starts that executable (KAS_CHROMIUM names another one) with the flags a closed network needs.
"""
import os
import pathlib
import re
import shutil
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUTPUT = os.path.join(ROOT, "tests", "output", "reports")
WIDTHS = (1280, 800)
HEIGHT = 900
# Only loopback here: without these Chromium keeps trying to reach Google's services (component updates,
# sync, safe browsing, QUIC probes). Playwright adds --headless, a fresh --user-data-dir and, as root,
# --no-sandbox (chromium_sandbox defaults to False).
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-default-apps", "--disable-extensions",
         "--disable-features=Translate,MediaRouter,OptimizationHints", "--metrics-recording-only",
         "--no-default-browser-check", "--mute-audio"]
# A request for anything but the report itself (or an inline data: URL) is a finding.
LOCAL = re.compile(r"^(file:|data:|about:)")

# Run in the page: the boxes of every piece of text, the chart marks, and the SVG text outside its svg.
MEASURE = r"""
() => {
  const round = (v) => Math.round(v * 10) / 10;
  const box = (r, what) => ({l: r.left + scrollX, t: r.top + scrollY, r: r.right + scrollX, b: r.bottom + scrollY,
                             what: what});
  const shown = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const s = getComputedStyle(e);
      if (s.display === 'none' || s.visibility === 'hidden' || s.opacity === '0') return false;
    }
    return true;
  };
  const label = (s) => JSON.stringify(s.replace(/\s+/g, ' ').trim().slice(0, 70));
  const texts = [];
  const broken = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!n.data.trim() || !el || el.closest('svg, title, style, script, noscript, template') || !shown(el)) continue;
    const range = document.createRange();
    range.selectNodeContents(n);
    for (const r of range.getClientRects()) {
      if (r.width >= 1 && r.height >= 1) texts.push(box(r, label(n.data)));
    }
    // A short word split over lines (a squeezed column: "fi/r/e/d"); long identifiers may wrap.
    for (const m of n.data.matchAll(/[\p{L}\p{N}]+/gu)) {
      if (m[0].length < 2 || m[0].length > 12) continue;
      const word = document.createRange();
      word.setStart(n, m.index);
      word.setEnd(n, m.index + m[0].length);
      const lines = new Set([...word.getClientRects()].filter((r) => r.width >= 1).map((r) => Math.round(r.top)));
      if (lines.size > 1) broken.push('the word ' + label(m[0]) + ' is split over ' + lines.size + ' lines in ' + label(n.data));
    }
  }
  const svgText = [...document.querySelectorAll('svg text, svg tspan')]
    .filter((t) => !(t.tagName === 'text' && t.querySelector('tspan')) && t.textContent.trim() && shown(t));
  const marks = [...document.querySelectorAll('svg .mark')].filter(shown)
    .map((m) => box(m.getBoundingClientRect(), 'mark ' + label(m.closest('[data-label]')?.dataset.label || m.tagName)));
  const outside = [];
  for (const t of svgText) {
    const r = t.getBoundingClientRect();
    const b = box(r, 'svg text ' + label(t.textContent));
    texts.push(b);
    const s = t.ownerSVGElement.getBoundingClientRect();
    if (r.left < s.left - 1 || r.right > s.right + 1 || r.top < s.top - 1 || r.bottom > s.bottom + 1) {
      outside.push(b.what + ' sticks out of its svg by ' +
                   round(Math.max(s.left - r.left, r.right - s.right, s.top - r.top, r.bottom - s.bottom)) + 'px');
    }
  }
  const hit = (a, b) => Math.min(a.r, b.r) - Math.max(a.l, b.l) > 1 && Math.min(a.b, b.b) - Math.max(a.t, b.t) > 1;
  const at = (a) => '@(' + round(a.l) + ',' + round(a.t) + ' ' + round(a.r - a.l) + 'x' + round(a.b - a.t) + ')';
  const overlaps = [];
  const sorted = texts.slice().sort((a, b) => a.t - b.t);
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i + 1; j < sorted.length && sorted[j].t < sorted[i].b; j++) {
      if (hit(sorted[i], sorted[j])) {
        overlaps.push('text ' + sorted[i].what + at(sorted[i]) + ' overlaps text ' + sorted[j].what + at(sorted[j]));
      }
    }
  }
  for (const t of texts) {
    for (const m of marks) {
      if (hit(t, m)) overlaps.push('text ' + t.what + at(t) + ' crosses ' + m.what + at(m));
    }
  }
  return {scrollWidth: document.documentElement.scrollWidth, innerWidth: innerWidth, texts: texts.length,
          marks: marks.length, overlaps: overlaps, outside: outside, broken: broken};
}
"""


# Run in the page: each time-series chart (report.html.j2's figure.series) as its DOM has it, in the SVG's own
# coordinates (not pixels): its data attributes, the y of its SLO or limit line, the extent of its polylines, how
# many marks and shaded spans it draws and the actions on its time axis.
CHARTS = r"""
() => [...document.querySelectorAll('figure[data-series]')].map((f) => {
  const svg = f.querySelector('svg');
  const line = svg && svg.querySelector('line.threshold');
  const ys = svg ? [...svg.querySelectorAll('polyline.mark')].flatMap((p) => [...p.points].map((pt) => pt.y)) : [];
  const count = (selector) => (svg ? svg.querySelectorAll(selector).length : 0);
  return {series: f.dataset.series, crossed: f.dataset.crossed, points: Number(f.dataset.points), chart: !!svg,
          threshold_y: line ? Number(line.getAttribute('y1')) : null,
          y_min: ys.length ? Math.min(...ys) : null, y_max: ys.length ? Math.max(...ys) : null,
          polylines: count('polyline.mark'), dots: count('circle.mark'), breaches: count('rect.breach'),
          incident: count('rect.incident'), ticks: svg ? Number(svg.dataset.ticks) : 0,
          actions: svg ? [...svg.querySelectorAll('line.action')].map((a) => a.dataset.action) : [],
          caption: f.querySelector('figcaption').innerText};
})
"""


def chromium_executable():
    """Debian's browser: KAS_CHROMIUM, else chromium-headless-shell, else chromium (None when there is none)."""
    for candidate in (os.environ.get("KAS_CHROMIUM"), "chromium-headless-shell", "chromium"):
        path = candidate and shutil.which(candidate)
        if path:
            return path
    return None


class Check(object):
    """What one report looked like: findings (sentences, empty when fine), screenshots, the measures per width,
    the page's text as a reader sees it and how many script elements it has."""

    def __init__(self, name):
        self.name = name
        self.problems = []
        self.screenshots = []
        self.measures = {}
        self.text = ""
        self.scripts = 0
        self.charts = []

    def __repr__(self):
        return "<report %s: %s>" % (self.name, "; ".join(self.problems) or "fine")


class ReportBrowser(object):
    """One headless Chromium for a test session; each check gets a fresh browser context."""

    def __init__(self, executable=None, output=OUTPUT):
        from playwright.sync_api import sync_playwright
        self.executable = executable or chromium_executable()
        if not self.executable:
            raise RuntimeError("no chromium-headless-shell or chromium on PATH: run `make bootstrap` (apt-get install "
                               "chromium-headless-shell) or set KAS_CHROMIUM")
        self.output = output
        self._tmp = tempfile.mkdtemp(prefix="chromium-")
        self._playwright = sync_playwright().start()
        try:
            self._browser = self._playwright.chromium.launch(executable_path=self.executable, headless=True,
                                                             args=FLAGS, env=self._env(), timeout=60000)
        except Exception:
            self._playwright.stop()
            raise

    def _env(self):
        # Chromium writes its crash dumps, caches and fontconfig cache under HOME/XDG dirs: keep them in a temp dir.
        env = dict(os.environ)
        env.update({"HOME": self._tmp, "XDG_CONFIG_HOME": os.path.join(self._tmp, "config"),
                    "XDG_CACHE_HOME": os.path.join(self._tmp, "cache")})
        return env

    def close(self):
        try:
            self._browser.close()
        finally:
            self._playwright.stop()
            shutil.rmtree(self._tmp, ignore_errors=True)

    def check(self, html, name, expect=None, widths=WIDTHS):
        """Open ``html`` at each width; ``expect`` maps a CSS selector to how often it must match (None: at least once)."""
        result = Check(name)
        url = pathlib.Path(os.path.abspath(html)).as_uri()
        os.makedirs(self.output, exist_ok=True)
        for width in widths:
            where = "%s at %dpx: " % (name, width)
            context = self._browser.new_context(viewport={"width": width, "height": HEIGHT})
            try:
                page = context.new_page()
                events = []
                page.on("console", lambda m, e=events: m.type in ("error", "warning") and e.append(
                    "console %s: %s" % (m.type, m.text)))
                page.on("pageerror", lambda err, e=events: e.append("page error: %s" % err))
                page.on("requestfailed", lambda r, e=events: e.append("request failed: %s (%s)" % (r.url, r.failure)))
                page.on("request", lambda r, e=events: LOCAL.match(r.url) is None and e.append(
                    "request leaves the report: %s" % r.url))
                context.route(re.compile(r"^(?!file:|data:|about:)"), lambda route: route.abort())
                page.goto(url, wait_until="load")
                page.evaluate("document.fonts.ready.then(() => true)")
                measures = page.evaluate(MEASURE)
                result.measures[width] = measures
                result.text = page.evaluate("document.body.innerText")
                result.scripts = page.locator("script").count()
                result.charts = page.evaluate(CHARTS)
                result.problems += [where + e for e in events]
                if measures["scrollWidth"] > measures["innerWidth"]:
                    result.problems.append(where + "the page is %dpx wide, wider than the %dpx viewport" % (
                        measures["scrollWidth"], measures["innerWidth"]))
                result.problems += [where + o for o in measures["overlaps"] + measures["outside"] + measures["broken"]]
                for selector, count in (expect or {}).items():
                    found = page.locator(selector).count()
                    if (count is None and found == 0) or (count is not None and found != count):
                        result.problems.append(where + "%s found %d times, expected %s" % (
                            selector, found, "at least once" if count is None else count))
                shot = os.path.join(self.output, "%s-%d.png" % (name, width))
                page.screenshot(path=shot, full_page=True)
                result.screenshots.append(shot)
            finally:
                context.close()
        return result


def report_expectations(report):
    """The selectors a report's HTML must have, from its JSON: the decision banner, each section's trace (and the
    re-check's, after a restart) with one row per rule the section applied, one figure per metrics series the run
    read (a chart with a line or a dot when it has a value, words alone when not) and each finding with its rows."""
    expect = {"#decision[data-decision='%s']" % report["decision"]["decision"]: 1}
    metrics = (report.get("evidence") or {}).get("metrics")
    if metrics is not None:
        expect["#metrics"] = 1
        series = metrics.get("series") or {}
        expect["figure[data-series]"] = len(series)
        for name, item in series.items():
            figure = "figure[data-series='%s']" % name
            if any(value is not None for _ts, value in item.get("points") or []):
                expect[figure + " svg"] = 1
                expect["%s svg polyline.mark, %s svg circle.mark" % (figure, figure)] = None
                expect[figure + " svg line.threshold"] = 0 if item.get("threshold") is None else 1
            else:
                expect[figure + ".no-data"] = 1
                expect[figure + " svg"] = 0
    findings = report.get("findings") or []
    expect["section.finding"] = len(findings)
    for index, finding in enumerate(findings, 1):
        rows = finding.get("rows") or []
        expect["section.finding[data-finding='%d'] tr[data-row]" % index] = len(rows)
        expect["section.finding[data-finding='%d'] pre.log" % index] = len([r for r in rows if r.get("log_lines")])
    traces = [("data-trace", section) for section in report.get("sections") or []]
    if report.get("recheck"):
        traces.extend(("data-recheck", section) for section in report["recheck"]["plan"]["sections"])
    for attribute, section in traces:
        trace = "[%s='%s']" % (attribute, section["section"])
        expect[trace] = 1
        expect["%s [data-rule]" % trace] = len(section.get("trace") or [])
    return expect
