"""Images shared by several samples: decoded once per run (sarbench.images.DecodedImages), prepared
once per decoded image (model_adapters.hf_images.PerImage), and the Qwen families' grey-image
shortcut, which must give exactly the bytes of the RGB resize."""

import shutil
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from family_helpers import make_family
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from model_adapters.hf_images import PerImage, to_rgb
from sarbench.data import Sample
from sarbench.images import DecodedImages, ImageError, prefetched_batches, read_image


def noise(path, size=(40, 30), seed=0, mode="L"):
    pixels = np.random.default_rng(seed).integers(0, 256, size[::-1], dtype=np.uint8)
    image = Image.fromarray(pixels, "L")
    (image if mode == "L" else image.convert(mode)).save(path)
    return str(path)


def sample(i, path):
    return Sample(f"count/{i}", "count", i, "q", "r", str(path), f"f:{i}", {})


def test_files_with_the_same_bytes_are_decoded_once_and_each_keeps_its_own_identity(tmp_path):
    first = noise(tmp_path / "a.png")
    second = tmp_path / "copy.png"
    shutil.copyfile(first, second)
    decoded = DecodedImages()
    (a, file_a), (b, file_b) = read_image(first, decoded), read_image(str(second), decoded)
    assert a is b and decoded.decoded == 1
    assert file_a.sha256 == file_b.sha256 and (file_a.mtime_ns, file_b.mtime_ns) == (
        (tmp_path / "a.png").stat().st_mtime_ns,
        second.stat().st_mtime_ns,
    )
    assert a.tobytes() == read_image(first)[0].tobytes()


def test_a_file_rewritten_with_other_bytes_is_decoded_again(tmp_path):
    path = tmp_path / "a.png"
    decoded = DecodedImages()
    before = read_image(noise(path, seed=1), decoded)[0]
    after, file = read_image(noise(path, seed=2), decoded)
    assert after is not before and decoded.decoded == 2
    assert after.tobytes() == read_image(str(path))[0].tobytes() != before.tobytes()
    assert file.sha256 == read_image(str(path))[1].sha256


def test_the_oldest_images_leave_once_the_budget_is_spent(tmp_path):
    paths = [noise(tmp_path / f"{i}.png", seed=i) for i in range(3)]
    decoded = DecodedImages(budget=2 * 40 * 30 * 4)  # two 40x30 images
    first = [read_image(p, decoded)[0] for p in paths]
    assert read_image(paths[2], decoded)[0] is first[2] and read_image(paths[1], decoded)[0] is first[1]
    again = read_image(paths[0], decoded)[0]
    assert again is not first[0] and again.tobytes() == first[0].tobytes() and decoded.decoded == 4


def test_an_unreadable_image_is_an_error_every_time_and_not_kept(tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG not really")
    decoded = DecodedImages()
    for _ in range(2):
        image, file = read_image(str(bad), decoded)
        assert isinstance(image, ImageError) and "bad.png" in str(image) and file is None
    assert decoded.decoded == 2


@pytest.mark.parametrize("fails", [False, True])
def test_threads_asking_for_bytes_being_decoded_wait_for_that_decoding(fails):
    decoded, started, release, calls = DecodedImages(), threading.Event(), threading.Event(), []

    def slow():
        calls.append(1)
        started.set()
        release.wait(10)
        return ImageError("cannot read image x") if fails else Image.new("L", (2, 2))

    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(decoded.image, "sha", slow)
        assert started.wait(10)
        others = [pool.submit(decoded.image, "sha", slow) for _ in range(3)]
        release.set()
        images = [first.result(10), *(f.result(10) for f in others)]
    if fails:  # an error is not kept: each sample's own decoding reports it
        assert len(calls) == 4 and all(isinstance(i, ImageError) for i in images)
    else:
        assert len(calls) == 1 and all(i is images[0] for i in images)


@pytest.mark.parametrize("workers", [0, 3])
def test_prefetched_samples_of_one_image_share_its_decoded_object(tmp_path, workers):
    shared, other = noise(tmp_path / "a.png"), noise(tmp_path / "b.png", seed=3)
    batches = [[sample(0, shared), sample(1, other)], [sample(2, shared), sample(3, tmp_path / "missing.png")]]
    loaded = [pair for _, pairs in prefetched_batches(batches, True, workers, 2) for pair in pairs]
    assert loaded[0][0] is loaded[2][0] and loaded[0][1] == loaded[2][1]
    assert loaded[1][0].tobytes() == read_image(other)[0].tobytes()
    assert isinstance(loaded[3][0], ImageError) and "missing.png" in str(loaded[3][0])


def test_per_image_prepares_each_image_object_once_while_kept():
    calls = []
    prepared = PerImage(lambda image: calls.append(image) or image.size, size=2)
    a, b, c = (Image.new("L", (i + 1, 1)) for i in range(3))
    twin = Image.new("L", (1, 1))  # equal pixels, another object: prepared on its own
    assert [prepared(x) for x in (a, a, b, a, twin)] == [(1, 1), (1, 1), (2, 1), (1, 1), (1, 1)]
    assert calls == [a, b, twin]
    prepared(c)  # keeps twin and c: a is prepared again
    prepared(a)
    assert calls == [a, b, twin, c, a]


def test_per_image_prepares_an_image_asked_from_many_threads_once_and_keeps_no_failure():
    started, release = threading.Event(), threading.Event()
    calls = []

    def slow(image):
        calls.append(image)
        started.set()
        release.wait(5)
        return image.size

    prepared = PerImage(slow)
    image = Image.new("L", (3, 2))
    with ThreadPoolExecutor(8) as pool:
        results = [pool.submit(prepared, image) for _ in range(8)]
        assert started.wait(5)
        release.set()
        assert [r.result(5) for r in results] == [(3, 2)] * 8
    assert calls == [image]  # the others waited: one object is never prepared by two threads at once
    failing = PerImage(lambda image: calls.append("failed") or 1 / 0)
    for _ in range(2):
        with pytest.raises(ZeroDivisionError):
            failing(image)
    assert calls.count("failed") == 2


def test_served_requests_send_the_samples_of_one_image_as_one_png(monkeypatch):
    import model_adapters.served_family as served

    encoded = []
    real = served.png_data_url
    monkeypatch.setattr(served, "png_data_url", lambda image: encoded.append(image) or real(image))
    requests = served.FamilyRequests(make_family("internvl2_5"), "request")
    image, other = Image.new("RGB", (8, 8)), Image.new("RGB", (8, 8))
    urls = [
        requests.messages(q, x)[-1]["content"][0]["image_url"]["url"]
        for q, x in [("a", image), ("b", image), ("c", other)]
    ]
    assert len(encoded) == 2 and urls[0] == urls[1] == urls[2]  # equal pixels, two objects: two encodings


@pytest.mark.parametrize("family", ["qwen2_vl", "qwen2_5_vl"])
@settings(max_examples=40, deadline=None)
@given(
    width=st.integers(1, 300),
    height=st.integers(1, 300),
    mode=st.sampled_from(["L", "I;16", "F", "RGB", "P"]),
    seed=st.integers(0, 2**16),
)
def test_qwen_pixels_of_any_image_are_the_bytes_of_the_rgb_resize(family, width, height, mode, seed):
    """The grey shortcut (resize, then RGB) against the definition (RGB, then resize), with pixel
    budgets that make images shrink and grow."""
    qwen = make_family(family, processor_kwargs={"min_pixels": 56 * 56, "max_pixels": 112 * 112})
    rng = np.random.default_rng(seed)
    if mode in ("I;16", "F"):
        pixels = rng.integers(0, 4000, (height, width)).astype(np.uint16 if mode == "I;16" else np.float32)
        image = Image.fromarray(pixels)
    else:
        image = Image.fromarray(rng.integers(0, 256, (height, width), dtype=np.uint8), "L").convert(mode)
    ours = qwen.pixels(image)
    definition = qwen.prepare_image(to_rgb(image))
    assert ours.mode == "RGB" and ours.size == definition.size
    assert ours.tobytes() == definition.tobytes()
