"""The File I/O page in a real browser: move num_hiddens, Start, watch the
minibatch-loss chart fill in, pause, save the parameters and download
mlp.params, upload the downloaded file back (the reloaded net predicts as the
saved one on all 10,000 test images), continue training from it. The
screenshot goes to test-artifacts/."""
from __future__ import annotations

import pytest
from browser_support import (
    live_points,
    no_exceptions,
    open_page,
    press_slider,
    query,
    require_browser,
    shot,
    wait_idle,
    wait_live_points_beyond,
    wait_metric,
    wait_query,
)

from core.experiments import file_io as fio

pytestmark = pytest.mark.browser
require_browser()
VIEWPORT = (1400, 3000)


def test_train_save_download_upload_and_continue(app_url, page, tmp_path):
    open_page(page, app_url + "/file_io?num_hiddens=32&num_epochs=5", "File I/O")
    press_slider(page, "num_hiddens (hidden units)", "ArrowLeft", 1)  # 32 -> 16
    wait_query(page, "num_hiddens", "16")
    no_exceptions(page)
    page.wait_for_selector("button:has-text('Start')", timeout=120_000)  # a fresh server reads the data first
    assert live_points(page, "Accuracy") == 0
    page.get_by_role("button", name="Start", exact=True).click()
    wait_live_points_beyond(page, "Minibatch loss", 20)  # the chart fills in as it trains
    page.get_by_role("button", name="Pause", exact=True).click()
    page.wait_for_selector("button:has-text('Start')", timeout=30_000)
    wait_idle(page)

    page.get_by_role("button", name="Save parameters").click()
    button = page.get_by_role("button", name="Download mlp.params")
    button.wait_for(timeout=30_000)
    with page.expect_download() as info:
        button.click()
    download = info.value
    assert download.suggested_filename == "mlp.params"
    path = tmp_path / "mlp.params"
    download.save_as(path)
    obj = fio.load_params(path.read_bytes())
    assert obj["step"] > 20 and obj["epoch"] == obj["step"] // 235  # 235 minibatches of 256 an epoch
    assert obj["config"]["num_hiddens"] == 16 and obj["config"]["num_epochs"] == 5

    page.locator("[data-testid='stFileUploader'] input[type=file]").set_input_files(str(path))
    wait_metric(page, "Y_clone == Y", "10,000 of 10,000", timeout=60_000)
    wait_metric(page, "test acc of the reloaded net", f"{obj['test_accuracy']:.4f}")
    page.wait_for_selector("text=The reloaded net is the saved one")
    no_exceptions(page)
    shot(page, "browser-file-io-reloaded")
    page.get_by_role("button", name="Continue training from the upload").click()
    page.wait_for_selector("text=This run starts from the parameters uploaded", timeout=30_000)
    wait_idle(page)
    assert query(page) == {"num_hiddens": "16", "num_epochs": "5"}
    no_exceptions(page)
    shot(page, "browser-file-io")
