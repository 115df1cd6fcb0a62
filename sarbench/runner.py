"""The evaluation run: samples -> prompts -> batched generation -> append-only predictions -> scores.

Every completed batch is on disk (appended, flushed, fsynced) before the next one starts;
re-running the same command skips what is done. A changed configuration that would make
earlier predictions invalid is refused unless `runner.overwrite=true`.
"""

from __future__ import annotations

import logging
import random
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from omegaconf import OmegaConf

from model_adapters.base import ModelAdapter
from model_adapters.errors import AdapterError
from sarbench.data import Dataset, Sample, file_sha256
from sarbench.failures import FailureStreak, to_retry
from sarbench.identity import changed_images, checkpoint_identity
from sarbench.images import prefetched_batches
from sarbench.prediction_store import PredictionFile
from sarbench.provenance import manifest, run_key, stable_hash
from sarbench.run_folder import RunFolderError, keep_corrupt_manifest, write_document, write_text
from sarbench.run_generation import BatchGenerator
from sarbench.run_io import (
    append_records,
    close_all,
    progress_bar,
    request_of,
    select_samples,
)
from sarbench.run_key import check_run_key
from sarbench.run_scoring import score_run
from sarbench.run_settings import RunError, RunnerSettings
from sarbench.shards import Shard, ShardBook, check_layout, meta_lock

log = logging.getLogger("sarbench")
REPO = Path(__file__).resolve().parents[1]


@dataclass
class RunStats:
    generated: int = 0
    failures: int = 0
    resumed: int = 0
    repaired_bytes: int = 0
    seconds: float = 0.0
    events: list[str] = field(default_factory=list)


class Runner:
    def __init__(
        self,
        adapter: ModelAdapter,
        dataset: Dataset,
        subsets: list[str],
        out: Path,
        settings: RunnerSettings,
        max_new_tokens: dict[str, int],
        config: dict,
        meteor: bool | None = None,
    ) -> None:
        self.adapter = adapter
        self.dataset = dataset
        self.out = out
        self.settings = settings
        self.max_new_tokens = max_new_tokens
        self.config = config
        self.meteor = meteor
        skipped = adapter.not_attempted()
        self.not_attempted = {s: skipped[s] for s in subsets if s in skipped}
        if self.not_attempted and len(self.not_attempted) == len(subsets):
            raise RunError(
                f"model {adapter.name} attempts none of {', '.join(subsets)}: "
                + "; ".join(f"{s}: {why}" for s, why in self.not_attempted.items())
            )
        self.shard = Shard(settings.shard, settings.num_shards)
        self.selected = select_samples(dataset, [s for s in subsets if s not in skipped], settings.limit)
        if not self.selected:
            raise RunError(f"no samples of {subsets} in {dataset.root}")
        self.samples = {k: [s for s in v if self.shard.owns(s.id)] for k, v in self.selected.items()}  # this shard's
        self.book = ShardBook(out, self.shard, self.samples, settings.limit)
        self.stats = RunStats()
        self.batch_size = adapter.preferred_batch_size(settings.batch_size)
        if not adapter.capabilities.batch_safe and self.batch_size != 1:
            self.stats.events.append(f"adapter {adapter.name} is batch-unsafe: batch size forced to 1")
            log.warning(self.stats.events[-1])
            self.batch_size = 1
        self.decode_images = adapter.decodes_images()
        self.generator = BatchGenerator(adapter, max_new_tokens, self._event)

    # -- resume -------------------------------------------------------------------------
    def key(self) -> dict:
        files = sorted({s.source.rsplit(":", 1)[0] for v in self.selected.values() for s in v})
        prompts = stable_hash(self.adapter.prompt_fingerprint())
        generation = {
            subset: {"max_new_tokens": self.max_new_tokens[subset], "decoding": "greedy"} for subset in self.selected
        }
        checkpoint = checkpoint_identity(self.adapter.checkpoint_location(), self.adapter.checkpoint_revision())
        return run_key(
            self.adapter.fingerprint(),
            prompts,
            generation,
            {Path(f).name: file_sha256(f) for f in files},
            checkpoint,
            self.dataset.source,
        )

    def pending(self, subset: str, store: PredictionFile) -> list[Sample]:
        records = self._done(store)
        retry = to_retry(records, self.settings.retry_failed)
        if retry:
            records = [r for r in records if r["id"] not in retry]
            store.rewrite(records)
            self._event(
                f"{subset}: {len(retry)} recorded inference failures predicted again (runner.retry_failed="
                f"{self.settings.retry_failed})"
            )
        done = {r["id"] for r in records}
        if len(done) != len(records):
            raise RunError(
                f"{store.path} lists a sample twice; delete the duplicate lines or re-run with runner.overwrite=true"
            )
        records = self._unchanged_images(subset, store, records)
        done = {r["id"] for r in records}
        todo = [s for s in self.samples[subset] if s.id not in done]
        self.stats.resumed += len(self.samples[subset]) - len(todo)
        if todo and self.adapter.batch_order_key(todo[0].prompt, todo[0].image) is not None:
            todo.sort(key=lambda s: self.adapter.batch_order_key(s.prompt, s.image))
        return todo

    def _done(self, store: PredictionFile) -> list[dict]:
        """The file's records; with runner.overwrite=true an unreadable file is discarded."""
        try:
            self.stats.repaired_bytes += store.repair()
            return store.read()
        except RunFolderError as exc:
            if not self.settings.overwrite:
                raise
            store.path.unlink()
            self._event(f"runner.overwrite=true: discarded {store.path} ({exc})")
            return []

    def _unchanged_images(self, subset: str, store: PredictionFile, records: list[dict]) -> list[dict]:
        """Done records whose image bytes are still those they were made from; a changed image
        is refused (or, with runner.overwrite=true, its predictions are made again)."""
        image_of = {s.id: s.image for s in self.samples[subset]}
        changed = changed_images(records, image_of)
        if not changed:
            return records
        listed = ", ".join(changed[:3]) + (f" and {len(changed) - 3} more" if len(changed) > 3 else "")
        if not self.settings.overwrite:
            raise RunError(
                f"{len(changed)} image(s) of done {subset} predictions changed since they were "
                f"made: {listed}. Use runner.overwrite=true to predict those samples again, "
                "or another out=DIR."
            )
        stale = set(changed)
        kept = [r for r in records if image_of.get(r["id"]) not in stale or "image_sha256" not in r]
        store.rewrite(kept)
        self._event(
            f"runner.overwrite=true: {len(records) - len(kept)} {subset} predictions made "
            f"again, their images changed ({listed})"
        )
        return kept

    def _event(self, message: str) -> None:
        self.stats.events.append(message)
        log.warning(message)

    def run(self) -> dict:
        """Generate what is missing into `out`, score it; one process at a time per folder."""
        random.seed(self.settings.seed)
        try:
            self.out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RunError(f"cannot write {self.out}: {exc}") from None
        with ExitStack() as locks:
            for lock in self.shard.locks(self.out):
                locks.enter_context(lock)
            return self._run_locked()

    def _run_locked(self) -> dict:
        started = datetime.now(timezone.utc).isoformat()
        with meta_lock(self.out):  # shards change the folder's shared files one at a time
            session = self._begin(started)
        try:
            folder = self.out / "predictions"
            stores = {s: PredictionFile(folder / self.shard.file_name(s), self.settings.fsync) for s in self.samples}
            todo = [(subset, self.pending(subset, stores[subset])) for subset in self.samples]
            self._generate_all(stores, [sample for _, samples in todo for sample in samples])
            with meta_lock(self.out):
                return self._finish(session)
        except (KeyboardInterrupt, Exception) as exc:
            self._record_stop(session, exc)
            raise

    def _begin(self, started: str) -> dict:
        check_layout(self.out, self.shard, self.settings.overwrite)
        key = check_run_key(self.out, self.key(), self.settings.overwrite)
        # Read before anything is written: a newer sarbench's folder is refused untouched.
        previous, note = keep_corrupt_manifest(self.out / "manifest.json", _file_stamp(started))
        if note:
            self._event(note)
        write_document(self.out / "run_key.json", key)
        write_text(self.out / "config.yaml", OmegaConf.to_yaml(OmegaConf.create(self.config)))
        for stale in ("metrics.json", "details.jsonl"):  # an earlier session's, until this one scores
            (self.out / stale).unlink(missing_ok=True)
        # This session is in the manifest from its start (finished and outcome null until it
        # ends), so a killed session's predictions still have their package versions and commit
        # on record; a session that stops on an error or an interrupt says so.
        session = {"key": key, "started": started, "previous": previous}
        self._write_manifest(session, None, {"samples_generated": None})
        self.book.start(started)
        return session

    def _finish(self, session: dict) -> dict:
        """Score when every shard is done (an unsharded run is its only shard)."""
        partial = self.book.finish(self._stats())
        if partial:
            self._write_manifest(session, "completed")
            return {"partial": partial, "shard": self.shard.label}
        folder = self.out / "predictions"
        result = self.score({s: self.shard.sibling_files(folder, s) for s in self.selected})
        write_document(self.out / "metrics.json", result)
        log.info(
            "scored %d samples: avg %s; wrote %s",
            sum(result["n"].values()),
            result["metrics"].get("avg"),
            self.out / "metrics.json",
        )
        self._write_manifest(session, "completed")
        return result

    def _record_stop(self, session: dict, exc: BaseException) -> None:
        if isinstance(exc, KeyboardInterrupt):
            outcome, extra = "interrupted", None
        else:
            outcome, extra = "errored", {"error": str(exc) if isinstance(exc, RunError) else repr(exc)}
        try:
            with meta_lock(self.out):
                self.book.stop(outcome)
                self._write_manifest(session, outcome, extra)
        except RunError as write_error:  # the error that stopped the run is the one to show
            log.warning("could not record the session's outcome in the manifest: %s", write_error)

    def _write_manifest(self, session: dict, outcome: str | None, extra: dict | None = None) -> None:
        """manifest.json with this session's outcome: None (running, or killed if it stays so),
        completed, errored (with `error`) or interrupted."""
        finished = None if outcome is None else datetime.now(timezone.utc).isoformat()
        stats = {**self._stats(), "outcome": outcome, "error": None, "shard": self.book.label, **(extra or {})}
        write_document(
            self.out / "manifest.json",
            manifest(
                key=session["key"],
                config=self.config,
                started=session["started"],
                finished=finished,
                stats=stats,
                repo=REPO,
                previous=self.book.previous(session["previous"], session["started"]),
            ),
        )

    def _generate_all(self, stores: dict[str, PredictionFile], queue: list[Sample]) -> None:
        log.info(
            "%s: %d samples to generate, %d already done (batch size %d)",
            self.out,
            len(queue),
            self.stats.resumed,
            self.batch_size,
        )
        # Batches run on across subsets: no partial batch at each subset's end (an engine would
        # otherwise wait on it at every subset); records go to their subset's file.
        self._preflight(queue)
        batches = [queue[i : i + self.batch_size] for i in range(0, len(queue), self.batch_size)]
        progress = progress_bar(len(queue), self.settings.progress, self.book.label)
        start = time.perf_counter()
        streak = FailureStreak(self.settings)
        finished = False
        generated = self.generator.generated(
            prefetched_batches(batches, self.decode_images, self.settings.image_workers, self.settings.prefetch_batches)
        )
        try:
            for batch, records in generated:
                for subset in dict.fromkeys(sample.subset for sample in batch):
                    append_records(stores[subset], [r for sample, r in zip(batch, records) if sample.subset == subset])
                self.stats.generated += len(records)
                self.stats.failures += sum("error" in r for r in records)
                streak.update(records)
                progress.update(len(records))
            finished = True
        finally:
            generated.close()  # a run stopped early: the adapter drops work it has queued
            progress.close()
            close_all(stores.values(), report=finished)
            self.stats.seconds = time.perf_counter() - start
            log.info(
                "generated %d samples in %.1f s, %d inference failures",
                self.stats.generated,
                self.stats.seconds,
                self.stats.failures,
            )

    def _preflight(self, queue: list[Sample]) -> None:
        """The adapter's own checks (e.g. a served model answers) before any batch, on the first
        pending sample of each subset."""
        first: dict[str, Sample] = {}
        for sample in queue:
            first.setdefault(sample.subset, sample)
        requests = [request_of(s, None, self.max_new_tokens[s.subset]) for s in first.values()]
        if requests:
            try:
                self.adapter.preflight(requests)
            except AdapterError as exc:
                raise RunError(str(exc)) from None

    def _stats(self) -> dict:
        s = self.stats
        return {
            "samples_generated": s.generated,
            "samples_resumed": s.resumed,
            "inference_failures_this_run": s.failures,
            "repaired_bytes": s.repaired_bytes,
            "generation_seconds": round(s.seconds, 3),
            "samples_per_second": round(s.generated / s.seconds, 3) if s.seconds > 0 else None,
            "batch_size": self.batch_size,
            "events": s.events + list(self.adapter.events),
        }

    # -- scoring ------------------------------------------------------------------------
    def score(self, files: dict[str, list[Path]]) -> dict:
        """Score every selected sample from the prediction files (of all shards)."""
        run = {
            "model": self.config.get("model", {}).get("name"),
            "data": self.config.get("data", {}).get("name"),
            "task": self.config.get("task", {}).get("name"),
            "limit": self.settings.limit,
        }
        result = score_run(self.selected, files, self.dataset.issues, self.out / "details.jsonl", self.meteor)
        if self.not_attempted:  # absent from every table with this note, never scored as zeros
            result["not_attempted"] = self.not_attempted
        result["run"] = run
        return result


def _file_stamp(iso_time: str) -> str:
    """An ISO time usable in a file name on every system (no colons)."""
    return iso_time.replace(":", "").replace("+0000", "Z")
