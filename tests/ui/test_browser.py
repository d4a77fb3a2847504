"""The demo in a real headless Chromium (Debian's chromium + chromedriver, driven by selenium): a text query and an
image query, asserted on the results the page shows, and a screenshot."""

import os
import shutil
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--window-size=1400,1100",
]


@pytest.fixture
def browser(tmp_path):
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    assert chromium and driver, (
        "the browser test needs Debian's chromium and chromium-driver: scripts/setup.sh installs them"
    )
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS + [f"--user-data-dir={tmp_path / 'chromium-profile'}"]:
        options.add_argument(flag)
    session = webdriver.Chrome(service=Service(driver), options=options)
    yield session
    session.quit()


def results_text(browser) -> str:
    return browser.find_element(By.ID, "results").text


def test_text_and_image_queries_in_a_real_browser(demo_app, browser, tmp_path):
    url, folder = demo_app
    browser.get(url)
    wait = WebDriverWait(browser, 60)
    box = wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, "#query textarea")))
    box.send_keys("a red square")
    browser.find_element(By.ID, "search-button").click()
    wait.until(lambda b: "A red square." in results_text(b))
    assert "A blue circle." in results_text(browser)
    assert len(browser.find_elements(By.CSS_SELECTOR, "#gallery img")) == 2

    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.DELETE)  # as a user would: Gradio sees the input event (clear() would not fire one)
    browser.find_element(By.CSS_SELECTOR, "#query-image input[type=file]").send_keys(str(folder / "blue_circle.png"))
    wait.until(lambda b: "blue_circle" in b.find_element(By.ID, "query-image").text)
    browser.find_element(By.ID, "search-button").click()
    wait.until(lambda b: "1.000" in b.find_elements(By.CSS_SELECTOR, "#results tr")[1].text)
    first_row = browser.find_elements(By.CSS_SELECTOR, "#results tr")[1].text
    assert "A blue circle." in first_row and "1.000" in first_row  # the query image itself, at cosine 1

    shot = tmp_path / "demo.png"
    browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000
    if os.environ.get("MMEMBED_SCREENSHOT_DIR"):
        Path(os.environ["MMEMBED_SCREENSHOT_DIR"]).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(os.environ["MMEMBED_SCREENSHOT_DIR"]) / "demo.png")
