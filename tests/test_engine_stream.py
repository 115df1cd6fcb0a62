"""engine_stream.py on a simulated engine: what backend=vllm does with the runner's batches,
checked without vLLM (the vLLM tier checks the real engine, tests/test_vllm_backend.py)."""

import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model_adapters import GenerationRequest, InferenceFailure
from model_adapters.engine_stream import prepared_ahead, stream_through_engine


class FakeEngine:
    """Runs `per_step` requests per step, oldest first, like a FCFS scheduler; a request whose
    prompt is "refuse" is refused at submission. Logs what happens, in order."""

    def __init__(self, per_step: int = 3) -> None:
        self.per_step, self.running, self.log, self.counter = per_step, [], [], 0
        self.ready: dict[str, str] = {}  # finished in the engine, not yet collected
        self.aborted: list[str] = []

    def submit(self, request: GenerationRequest):
        if request.prompt == "refuse":
            return InferenceFailure("refused")
        self.counter += 1
        self.running.append((str(self.counter), request.sample_id))
        self.log.append(("submit", request.sample_id, len(self.running)))
        return str(self.counter)

    def run_one_step(self) -> None:
        done, self.running = self.running[: self.per_step], self.running[self.per_step :]
        self.ready.update((i, f"answer to {sample}") for i, sample in done)

    def collect(self, block: bool) -> dict:
        if block:
            self.run_one_step()
        self.log.append(("collect", block))
        ready, self.ready = self.ready, {}
        return ready

    def busy(self) -> bool:
        return bool(self.running or self.ready)

    def abort(self, ids) -> None:
        self.aborted += ids
        self.running = [(i, s) for i, s in self.running if i not in ids]


def requests(n: int, start: int = 0, refuse=()) -> list[GenerationRequest]:
    return [
        GenerationRequest(f"count/{i}", "count", "refuse" if i in refuse else "q", "", None)
        for i in range(start, start + n)
    ]


def batches_of(sizes, pulled=None, refuse=()):
    start = 0
    for size in sizes:
        if pulled is not None:
            pulled.append(start)
        yield requests(size, start, refuse)
        start += size


def stream(engine, batches, window):
    return stream_through_engine(batches, engine.submit, engine.collect, engine.busy, engine.abort, window)


@settings(max_examples=200, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 9), min_size=1, max_size=12),
    window=st.integers(1, 25),
    per_step=st.integers(1, 7),
    refuse=st.sets(st.integers(0, 60), max_size=5),
)
def test_every_batch_is_answered_in_order_and_the_window_bounds_the_engine(sizes, window, per_step, refuse):
    engine = FakeEngine(per_step)
    answers = list(stream(engine, batches_of(sizes, refuse=refuse), window))
    assert [len(a) for a in answers] == sizes
    flat = [a for batch in answers for a in batch]
    for i, answer in enumerate(flat):
        assert isinstance(answer, InferenceFailure) if i in refuse else answer == f"answer to count/{i}"
    largest = max(sizes)
    assert max((e[2] for e in engine.log if e[0] == "submit"), default=0) < window + largest
    assert not engine.busy() and not engine.aborted


def test_the_engine_is_filled_to_the_window_before_it_is_waited_on():
    engine, pulled = FakeEngine(per_step=2), []
    answers = stream(engine, batches_of([4, 4, 4, 4], pulled), window=8)
    first = next(answers)
    assert first == [f"answer to count/{i}" for i in range(4)]
    first_wait = engine.log.index(("collect", True))
    assert [e[1] for e in engine.log[:first_wait] if e[0] == "submit"] == [f"count/{i}" for i in range(8)]
    # after one step freed room, the third batch was queued before the first was handed over
    assert pulled == [0, 4, 8]
    answers.close()
    assert engine.aborted == [str(i) for i in range(5, 13)] and not engine.running


def test_answers_ready_without_waiting_are_handed_over_at_once():
    engine = FakeEngine()
    real_submit = engine.submit

    def submit_then_finish(request):  # an engine fast enough to finish each request at once
        request_id = real_submit(request)
        engine.run_one_step()
        return request_id

    engine.submit = submit_then_finish
    answers = stream(engine, batches_of([2, 2, 2]), window=100)
    assert next(answers) == ["answer to count/0", "answer to count/1"]
    assert ("collect", True) not in engine.log


def test_an_engine_that_loses_requests_is_an_error_not_a_hang():
    engine = FakeEngine()
    engine.collect = lambda block: {}  # never reports anything finished
    engine.busy = lambda: False
    with pytest.raises(RuntimeError, match="no request left"):
        list(stream(engine, batches_of([3]), window=10))


def test_a_window_below_one_is_refused():
    with pytest.raises(ValueError, match="at least one"):
        list(stream(FakeEngine(), batches_of([1]), window=0))


@settings(max_examples=50, deadline=None)
@given(sizes=st.lists(st.integers(1, 9), max_size=10), ahead=st.integers(1, 4))
def test_prepared_batches_come_in_order_each_item_with_its_preparation(sizes, ahead):
    batches = list(batches_of(sizes))
    prepared = list(prepared_ahead(iter(batches), lambda r: f"prepared {r.sample_id}", ahead))
    assert [[item for item, _ in batch] for batch in prepared] == batches
    assert all(p == f"prepared {item.sample_id}" for batch in prepared for item, p in batch)


def test_preparation_runs_on_one_other_thread_ahead_of_the_consumer():
    threads, pulled = set(), []

    def prepare(request):
        threads.add(threading.get_ident())
        return request.sample_id

    prepared = prepared_ahead(batches_of([2, 2, 2, 2], pulled), prepare, ahead=2)
    first = next(prepared)
    assert [p for _, p in first] == ["count/0", "count/1"]
    assert pulled == [0, 2, 4]  # two batches beyond the one handed over are being prepared
    rest = list(prepared)
    assert [p for batch in rest for _, p in batch] == [f"count/{i}" for i in range(2, 8)]
    assert len(threads) == 1 and threading.get_ident() not in threads


def test_a_failing_preparation_is_raised_with_its_batch_and_the_rest_is_dropped():
    prepared_ids = []

    def prepare(request):
        if request.sample_id == "count/3":
            raise OSError("unreadable")
        prepared_ids.append(request.sample_id)
        return request.sample_id

    prepared = prepared_ahead(batches_of([2, 2, 2, 2, 2]), prepare, ahead=1)
    assert [p for _, p in next(prepared)] == ["count/0", "count/1"]
    with pytest.raises(OSError, match="unreadable"):
        next(prepared)
    prepared.close()
    assert "count/9" not in prepared_ids  # batches beyond the failure were not prepared


def test_preparing_fewer_than_one_batch_ahead_is_refused():
    with pytest.raises(ValueError, match="at least one batch"):
        next(prepared_ahead(batches_of([1]), str, ahead=0))
