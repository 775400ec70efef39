"""The report page in a real browser: headless Chromium (Debian's ``chromium`` package).

Skipped, with the reason, only when no Chromium is installed and the run is not in CI
(``CI`` set: the test fails instead, because ``make test`` installs it).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import numpy as np
import pytest

from hpstudy.report import write_html
from tests import _report_studies as rs

CHECK = """<script>
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var bad = imgs.filter(function (i) { return !(i.complete && i.naturalWidth > 100); });
  var out = document.createElement('pre'); out.id = 'hpstudy-check';
  out.textContent = 'images=' + imgs.length + ' broken=' + bad.length;
  document.body.appendChild(out);
});
</script></body>"""


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("CI"):
        pytest.fail("chromium is not installed (make test installs Debian's chromium package)")
    pytest.skip("chromium not found: install Debian's `chromium` package to run this test")


def _run(browser: str, profile, *args: str) -> subprocess.CompletedProcess:
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--disable-background-networking", "--disable-component-update",
           "--disable-sync", "--disable-default-apps", f"--user-data-dir={profile}",
           "--enable-logging=stderr", "--v=0", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_report_renders_in_headless_chromium(tmp_path):
    browser = _chromium()
    db = tmp_path / "study.db"
    rs.multi_model(db, n_trials=20)
    page = write_html(db, tmp_path / "report.html")
    text = page.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text), "a link leaves the page"
    # 1. the page loads and the browser decodes every figure
    probe = tmp_path / "probe.html"
    probe.write_text(text.replace("</body>", CHECK), encoding="utf-8")
    res = _run(browser, tmp_path / "p1", "--virtual-time-budget=5000", "--dump-dom",
               probe.as_uri())
    assert "images=8 broken=0" in res.stdout, res.stderr[-2000:]
    assert not re.search(r"CONSOLE.*(Uncaught|Error)", res.stderr), res.stderr[-2000:]
    assert "net::ERR" not in res.stderr
    # 2. the screenshot: the figures are drawn (far from a blank page)
    shot = tmp_path / "shot.png"
    res = _run(browser, tmp_path / "p2", "--hide-scrollbars", "--window-size=1200,9000",
               f"--screenshot={shot}", page.as_uri())
    assert shot.exists(), res.stderr[-2000:]
    from matplotlib.image import imread

    pixels = imread(shot)[..., :3]
    assert pixels.shape[0] >= 9000 and pixels.shape[1] >= 1200
    coloured = np.mean(np.ptp(pixels, axis=-1) > 0.2)  # saturated pixels: figure ink, not text
    assert coloured > 0.01, f"only {coloured:.2%} of the screenshot is coloured"
    if os.environ.get("HPSTUDY_KEEP_SCREENSHOT"):
        shutil.copy(shot, os.environ["HPSTUDY_KEEP_SCREENSHOT"])


def test_every_embedded_figure_is_a_non_blank_image(tmp_path):
    import base64
    import io

    from matplotlib.image import imread

    page = write_html(rs.one_model(n_trials=8), tmp_path / "r.html").read_text(encoding="utf-8")
    blobs = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(blobs) == 7
    for blob in blobs:
        img = imread(io.BytesIO(base64.b64decode(blob)), format="png")[..., :3]
        assert img.shape[0] > 100 and img.shape[1] > 300
        assert np.mean(img.min(axis=-1) < 0.9) > 0.01, "a figure is (nearly) blank"
