"""The viewer page in a real browser: Debian's Chromium, headless, driven by selenium through
chromium-driver (installed by scripts/setup_browser.sh). Filters and their counts, boxes drawn
where the data puts them (element geometry and screenshot pixels), the IoU switch, permalinks,
two runs side by side, and hostile strings that stay text. Skips only where the browser cannot
be installed, saying why."""

import shutil
import subprocess
from pathlib import Path
from urllib.parse import quote

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait
from view_runs import HOSTILE, HOSTILE_ID, details, make_run

from sarbench.view.__main__ import write_view

REPO = Path(__file__).resolve().parents[1]
COLOURS = {"ref-hit": (0x1A, 0x98, 0x50), "ref-miss": (0xFD, 0xAE, 0x61), "pred-hit": (0x2C, 0x7B, 0xB6)}
COLOURS["pred-miss"] = (0xD7, 0x19, 0x1C)


@pytest.fixture(scope="module")
def browser():
    setup = subprocess.run(["bash", str(REPO / "scripts" / "setup_browser.sh")], capture_output=True, text=True)
    chromium, chromedriver = shutil.which("chromium"), shutil.which("chromedriver")
    if setup.returncode != 0 or not chromium or not chromedriver:
        pytest.skip(f"Chromium could not be installed: {setup.stderr.strip() or 'chromium/chromedriver not on PATH'}")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.add_argument("--window-size=1400,1000")
    options.add_argument("--force-device-scale-factor=1")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(chromedriver), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    root = tmp_path_factory.mktemp("viewer")
    run_a = make_run(root / "a", 0, failed="classify/1")
    run_b = make_run(root / "b", 1, model="model-b")
    single = write_view([run_a], root / "pages" / "one.html")
    pair = write_view([run_a, run_b], root / "pages" / "two.html")
    write_view([run_a], root / "pages" / "linked.html", thumbnail_px=0)
    return {"root": root / "pages", "a": details(run_a), "b": details(run_b), "single": single, "pair": pair}


def open_page(browser, pages, name, fragment=""):
    browser.get((pages["root"] / name).as_uri() + fragment)
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "count").get_attribute("data-matching"))
    return browser


def shown(browser) -> list[str]:
    """The ids of the cards on the page, read in one step (a re-render cannot leave stale elements)."""
    script = "return [...document.querySelectorAll('#list article.card')].map((card) => card.dataset.id)"
    return browser.execute_script(script)


def matching(browser) -> int:
    return int(browser.find_element(By.ID, "count").get_attribute("data-matching"))


def choose(browser, control, value):
    Select(browser.find_element(By.ID, control)).select_by_value(value)


def correct(row) -> bool:
    return all(c["fp"] == 0 == c["fn"] for c in row["counts"].values()) and row.get("count_exact") is not False


def outcome(row):
    return row["counts"], row["parse_fail"], row.get("count_exact"), correct(row)


def score(row) -> float:
    """The share of true positives among all counted items of a sample."""
    tp, fp, fn = (sum(c[k] for c in row["counts"].values()) for k in ("tp", "fp", "fn"))
    return tp / (tp + fp + fn)


def severe_logs(browser) -> list[str]:
    return [entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]


def test_filters_show_the_samples_the_data_says(browser, pages):
    rows = pages["a"]
    open_page(browser, pages, "one.html")
    assert severe_logs(browser) == []  # a blocked script (CSP hash mismatch) or a JS error shows here
    assert matching(browser) == len(rows) and shown(browser) == list(rows)
    choose(browser, "f-subset", "classify")
    classify = [i for i, r in rows.items() if r["subset"] == "classify"]
    assert shown(browser) == classify and len(classify) == 5
    choose(browser, "f-outcome", "wrong")
    assert shown(browser) == [i for i in classify if not correct(rows[i])] == ["classify/1", "classify/2", HOSTILE_ID]
    choose(browser, "f-outcome", "")
    choose(browser, "f-parse", "fail")
    assert shown(browser) == [i for i in classify if rows[i]["parse_fail"]] == ["classify/2", HOSTILE_ID]
    choose(browser, "f-parse", "")
    choose(browser, "f-error", "error")
    assert shown(browser) == ["classify/1"]
    choose(browser, "f-error", "")
    choose(browser, "f-subset", "")
    choose(browser, "f-size", "medium")  # 10-40 % of the image: count/0's box (12.5 %), grounding's 2nd (10 %)
    assert shown(browser) == ["count/0", "grounding_multi/0"]
    choose(browser, "f-size", "")
    choose(browser, "f-category", "aircraft")
    assert shown(browser) == ["classify/2"]
    choose(browser, "f-category", "")
    text = browser.find_element(By.ID, "f-text")
    text.send_keys("PWNED")  # in the hostile sample's prompt and answer, and in classify/1's failure message
    WebDriverWait(browser, 5).until(lambda d: matching(d) == 2)
    assert shown(browser) == ["classify/1", HOSTILE_ID]
    text.send_keys(Keys.BACKSPACE * 5, "X</B> #1")  # the id, case-insensitive
    WebDriverWait(browser, 5).until(lambda d: matching(d) == 1)
    assert shown(browser) == [HOSTILE_ID]
    text.send_keys(Keys.BACKSPACE * 8)  # as typed: clear() fires no input event
    WebDriverWait(browser, 5).until(lambda d: matching(d) == len(rows))
    choose(browser, "f-sort", "worst")
    first = rows[shown(browser)[0]]
    assert sum(c["tp"] for c in first["counts"].values()) == 0
    choose(browser, "f-page-size", "10")
    assert len(shown(browser)) == 8 and browser.find_element(By.ID, "next").get_attribute("disabled")


def boxes_of(card) -> list[tuple[str, dict]]:
    return [
        (rect.get_attribute("class").split()[1], rect.rect) for rect in card.find_elements(By.CSS_SELECTOR, "svg rect")
    ]


def expected_rect(image_rect: dict, box, width=400, height=200) -> dict:
    sx, sy = image_rect["width"] / width, image_rect["height"] / height
    return {
        "x": image_rect["x"] + box[0] * sx,
        "y": image_rect["y"] + box[1] * sy,
        "width": (box[2] - box[0]) * sx,
        "height": (box[3] - box[1]) * sy,
    }


def assert_near(actual: dict, expected: dict, tolerance=1.5):
    # the stroke (2 px, not scaled) widens an SVG element's box by up to 1 px on each side
    for key in ("x", "y"):
        assert abs(actual[key] - expected[key]) <= tolerance, (key, actual, expected)
    for key in ("width", "height"):
        assert abs(actual[key] - expected[key]) <= 2 * tolerance, (key, actual, expected)


def pixel_colour_near(screenshot, x: float, y: float, colour, radius=2) -> bool:
    for dx in range(-radius, radius + 1):
        for dy in range(-radius, radius + 1):
            pixel = screenshot.getpixel((round(x) + dx, round(y) + dy))[:3]
            if all(abs(a - b) <= 40 for a, b in zip(pixel, colour)):
                return True
    return False


def screenshot_of(browser):
    import io

    from PIL import Image

    return Image.open(io.BytesIO(browser.get_screenshot_as_png())).convert("RGB")


def test_boxes_are_drawn_where_the_data_puts_them(browser, pages):
    open_page(browser, pages, "one.html", "#s=" + quote("grounding_multi/0", safe=""))
    card = browser.find_element(By.CSS_SELECTOR, "#list article.card")
    image = card.find_element(By.CSS_SELECTOR, ".holder img")
    WebDriverWait(browser, 5).until(lambda d: image.get_property("complete") and image.get_property("naturalWidth"))
    assert image.get_property("naturalWidth") == 256  # the embedded thumbnail
    record = next(r for r in pages["single"]["runs"][0]["samples"] if r["id"] == "grounding_multi/0")
    drawn = boxes_of(card)
    assert [kind for kind, _ in drawn] == ["ref-hit", "ref-miss", "pred-hit", "pred-miss"]
    for (_, actual), box in zip(drawn, record["g"]["b"] + record["p"]["b"]):
        assert_near(actual, expected_rect(image.rect, box))
    browser.execute_script("arguments[0].scrollIntoView()", card)
    image_rect = image.rect  # after scrolling: the screenshot's coordinates
    offset = browser.execute_script("return window.scrollY")
    shot = screenshot_of(browser)
    for kind, box, x, y in (
        ("ref-miss", record["g"]["b"][1], 0, 0),  # dashed: the dash starts at the top left corner
        ("pred-hit", record["p"]["b"][0], 0, None),  # solid: the middle of its left edge
        ("pred-miss", record["p"]["b"][1], 0, 0),
    ):
        where = expected_rect(image_rect, box)
        px = where["x"] + (2 if x == 0 and y == 0 else 0)
        py = where["y"] + (where["height"] / 2 if y is None else 0) - offset
        assert pixel_colour_near(shot, px, py, COLOURS[kind]), (kind, px, py)
    card.find_element(By.CSS_SELECTOR, ".holder").click()  # enlarge: the original replaces the thumbnail
    WebDriverWait(browser, 5).until(lambda d: image.get_property("naturalWidth") == 400)
    assert image.rect["width"] > 2 * image_rect["width"]
    for (_, actual), box in zip(boxes_of(card), record["g"]["b"] + record["p"]["b"]):
        assert_near(actual, expected_rect(image.rect, box))


def test_iou_switch_redraws_matches_of_that_threshold(browser, pages):
    open_page(browser, pages, "one.html")
    choose(browser, "f-subset", "count")
    card = browser.find_element(By.CSS_SELECTOR, "#list article.card")
    assert [kind for kind, _ in boxes_of(card)] == ["ref-miss", "pred-miss"]  # IoU 1/3 < 0.5
    assert "matching of count.iou50" in card.text
    choose(browser, "f-iou", "0.25")
    card = browser.find_element(By.CSS_SELECTOR, "#list article.card")
    assert [kind for kind, _ in boxes_of(card)] == ["ref-hit", "pred-hit"]
    image = card.find_element(By.CSS_SELECTOR, ".holder img")
    browser.execute_script("arguments[0].scrollIntoView()", card)
    where = expected_rect(image.rect, [100, 50, 200, 150])  # the reference box's left edge is its own
    offset = browser.execute_script("return window.scrollY")
    shot = screenshot_of(browser)
    assert pixel_colour_near(shot, where["x"], where["y"] + where["height"] / 2 - offset, COLOURS["ref-hit"])


def test_permalinks_open_one_sample_and_hostile_text_stays_text(browser, pages):
    open_page(browser, pages, "one.html")
    link = browser.find_element(By.CSS_SELECTOR, f'article[data-id="{HOSTILE_ID.replace(chr(34), "")}"] a.permalink')
    link.click()
    WebDriverWait(browser, 5).until(lambda d: len(shown(d)) == 1)
    assert shown(browser) == [HOSTILE_ID] and browser.current_url.endswith("#s=" + quote(HOSTILE_ID, safe=""))
    browser.refresh()  # the permalink itself, opened fresh
    WebDriverWait(browser, 10).until(lambda d: shown(d) == [HOSTILE_ID])
    card = browser.find_element(By.CSS_SELECTOR, "#list article.card")
    assert card.find_element(By.CSS_SELECTOR, "pre.answer").get_property("textContent") == HOSTILE
    assert HOSTILE in card.find_element(By.CSS_SELECTOR, "pre.prompt").get_property("textContent")
    assert card.find_element(By.CSS_SELECTOR, "a.permalink").text == HOSTILE_ID
    images = card.find_elements(By.TAG_NAME, "img")
    assert len(images) == 1 and images[0].get_attribute("src").startswith("data:image/jpeg;base64,")
    assert card.find_elements(By.TAG_NAME, "b") == []
    assert browser.execute_script("return window.__pwned") is None
    assert not browser.find_element(By.ID, "controls").is_displayed()
    browser.find_element(By.CSS_SELECTOR, "#single a").click()
    WebDriverWait(browser, 5).until(lambda d: len(shown(d)) == len(pages["a"]))
    browser.get((pages["root"] / "one.html").as_uri() + "#s=no%20such%20sample")
    WebDriverWait(browser, 5).until(lambda d: "no such sample is not in this page" in d.page_source)
    assert shown(browser) == [] and severe_logs(browser) == []


def test_two_runs_side_by_side_and_where_they_disagree(browser, pages):
    a, b = pages["a"], pages["b"]
    open_page(browser, pages, "two.html")
    assert severe_logs(browser) == []
    assert matching(browser) == len(a)
    choose(browser, "f-compare", "disagree")

    disagree = [i for i in a if i in b and outcome(a[i]) != outcome(b[i])]
    assert shown(browser) == disagree and "grounding_multi/0" in disagree and "count/0" not in disagree
    choose(browser, "f-compare", "b-better")
    assert shown(browser) == [i for i in disagree if score(b[i]) > score(a[i])]
    assert shown(browser) == ["classify/1", HOSTILE_ID, "grounding_multi/0"]
    choose(browser, "f-compare", "a-better")
    assert shown(browser) == [i for i in disagree if score(a[i]) > score(b[i])] == ["classify/0"]
    choose(browser, "f-compare", "only-a")
    assert shown(browser) == ["classify/3"]
    card = browser.find_element(By.CSS_SELECTOR, "#list article.card")
    assert "not in this run" in card.find_elements(By.CSS_SELECTOR, "section.run")[1].text
    choose(browser, "f-compare", "")
    choose(browser, "f-subset", "grounding_multi")
    columns = browser.find_elements(By.CSS_SELECTOR, "#list article.card section.run")
    assert [c.find_element(By.TAG_NAME, "h3").text[:2] for c in columns] == ["A:", "B:"]
    assert [k for k, _ in boxes_of(columns[0])] == ["ref-hit", "ref-miss", "pred-hit", "pred-miss"]
    assert [k for k, _ in boxes_of(columns[1])] == ["ref-hit", "ref-hit", "pred-hit", "pred-hit"]
    left, right = (c.find_element(By.CSS_SELECTOR, ".holder").rect for c in columns)
    assert right["x"] > left["x"] + left["width"] and abs(right["y"] - left["y"]) < 1  # side by side


def test_linked_originals_load_from_disk(browser, pages):
    open_page(browser, pages, "linked.html", "#s=" + quote("count/0", safe=""))
    image = browser.find_element(By.CSS_SELECTOR, "#list .holder img")
    WebDriverWait(browser, 5).until(lambda d: image.get_property("complete"))
    assert image.get_property("naturalWidth") == 400  # the original, by relative path, under the CSP
    assert severe_logs(browser) == []
