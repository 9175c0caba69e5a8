"""'Show the PyTorch' in a real browser (Chromium via Playwright against
`streamlit run`): on the weight-decay page opened with λ = 3 in its link, the
expander under the live panel opens on the script for λ = 3, and its download
button hands over run.py with exactly that text. Screenshot in test-artifacts/."""
from __future__ import annotations

import ast
import re
from dataclasses import replace

import pytest
from browser_support import app_env, browser_page, no_exceptions, open_page, require_browser, shot, streamlit_server

from core.experiments import weight_decay as wd
from core.export import exporter

pytestmark = pytest.mark.browser
require_browser()


def test_the_code_expander_shows_and_downloads_the_runs_script():
    with streamlit_server(app_env()) as url, browser_page(1400, 2400) as page:
        open_page(page, f"{url}/weight_decay?weight_decay=3", "Weight decay")
        no_exceptions(page)
        expander = page.locator("[data-testid='stExpander']").filter(has_text="Show the PyTorch")
        expander.locator("summary").click()
        code = expander.locator("[data-testid='stCode']")
        code.wait_for()
        text = code.inner_text()
        assert re.search(r"WEIGHT_DECAY\s*=\s*3\.0", text) and "def train(" in text
        shot(page, "code_export_weight_decay")
        with page.expect_download() as info:
            expander.get_by_role("button", name="Download run.py").click()
        download = info.value
        assert download.suggested_filename == "run.py"
        saved = download.path().read_text(encoding="utf-8")
        data_dir = ast.literal_eval(re.search(r"^DATA_DIR += (.+?)  #", saved, re.M).group(1))
        threads = int(re.search(r"^THREADS += (\d+)", saved, re.M).group(1))
        assert saved == exporter("weight_decay").script(replace(wd.Config(), weight_decay=3.0), seed=0,
                                                        data_dir=data_dir, threads=threads)
        no_exceptions(page)
