"""The response cache: an unchanged chunk is never paid twice; a broken cache never breaks a run.

Also the provider's own prompt caching: cached-read tokens are counted and priced as such.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reviewer.cache import CacheScope, ResponseCache
from reviewer.cli import main
from reviewer.gateway import ModelReply
from tests.fakes.diffs import added_line, make_diff
from tests.fakes.model_server import FakeModelServer, Reply, findings_reply

MODEL = "openai/gpt-4.1-mini"
PATHS = ("src/cart.py", "src/orders.py", "src/users.py")
FINDING = {
    "path": "src/orders.py",
    "quote": added_line("src/orders.py", 0, 3).strip(),
    "severity": "medium",
    "category": "bug",
    "title": "compute() result is never checked",
    "body": "b",
}
SCOPE = CacheScope((MODEL,), "http://gw/v1", 0.1)
REPLY = ModelReply('{"findings": []}', MODEL, 1000, 200, 0, 0.00072, 1.5, 2, False)


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AI_REVIEW_API_KEY", "sk-test")


def answer(body: dict[str, Any]) -> Reply:
    prompt = body["messages"][1]["content"]
    found = (FINDING,) if "### src/orders.py" in prompt else ()
    return findings_reply(*found, prompt_tokens=1000, completion_tokens=200)


def write_diff(tmp_path: Path, seed: str = "", paths: tuple[str, ...] = PATHS) -> str:
    diff = tmp_path / f"change{seed}.diff"
    diff.write_text(make_diff(paths, lines=10, seed=seed))
    return str(diff)


def review(
    capsys: pytest.CaptureFixture[str], server: FakeModelServer, diff: str, *extra: str
) -> tuple[int, dict[str, Any], str]:
    settings = Path("settings.toml")
    # one pass per chunk: these tests count what the cache saves, not the verifier's calls
    settings.write_text('chunk_tokens = 500\ndepth = "trivial"\n')
    args = ["--diff", diff, "--format", "json", "--config", str(settings), "--model", MODEL]
    code = main([*args, "--api-base", server.base_url, *extra])
    out, err = capsys.readouterr()
    return code, json.loads(out), err


def test_a_rerun_of_an_unchanged_review_makes_no_model_call(
    capsys: pytest.CaptureFixture[str], model_server: FakeModelServer, tmp_path: Path
) -> None:
    model_server.respond_with(answer)
    diff, cache = write_diff(tmp_path), str(tmp_path / "cache")
    code, cold, err = review(capsys, model_server, diff, "--cache-dir", cache)
    assert code == 0, err
    sent = len(model_server.requests)
    assert cold["summary"]["chunks"] == cold["summary"]["llm_calls"] == sent == 3
    assert (cold["summary"]["cache_hits"], cold["summary"]["saved_usd"]) == (0, 0.0)
    code, warm, err = review(capsys, model_server, diff, "--cache-dir", cache)
    assert code == 0 and err == ""
    assert len(model_server.requests) == sent  # no new request
    summary = warm["summary"]
    assert summary["cache_hits"] == summary["chunks"] == 3
    assert (summary["llm_calls"], summary["prompt_tokens"], summary["cost_usd"]) == (0, 0, 0.0)
    assert summary["saved_usd"] == pytest.approx(cold["summary"]["cost_usd"])
    assert summary["saved_usd"] == pytest.approx(3 * (1000 * 4e-7 + 200 * 1.6e-6))
    assert warm["findings"] == cold["findings"] and len(warm["findings"]) == 1


def test_only_the_changed_chunk_is_sent_again(
    capsys: pytest.CaptureFixture[str], model_server: FakeModelServer, tmp_path: Path
) -> None:
    cache = str(tmp_path / "cache")
    review(capsys, model_server, write_diff(tmp_path), "--cache-dir", cache)
    model_server.requests.clear()
    changed = tmp_path / "changed.diff"
    changed.write_text(make_diff(PATHS[:2], lines=10) + make_diff(PATHS[2:], lines=10, seed="v2"))
    _, report, _ = review(capsys, model_server, str(changed), "--cache-dir", cache)
    [request] = model_server.requests
    assert "### src/users.py" in request.prompt_text
    assert (report["summary"]["cache_hits"], report["summary"]["llm_calls"]) == (2, 1)


def test_a_push_that_adds_a_file_keeps_the_other_chunks_cached(
    capsys: pytest.CaptureFixture[str], model_server: FakeModelServer, tmp_path: Path
) -> None:
    cache = str(tmp_path / "cache")
    review(capsys, model_server, write_diff(tmp_path), "--cache-dir", cache)
    model_server.requests.clear()
    grown = write_diff(tmp_path, seed="", paths=(*PATHS, "src/zz_new.py"))
    _, report, _ = review(capsys, model_server, grown, "--cache-dir", cache)
    [request] = model_server.requests  # only the new file's chunk is sent
    assert "### src/zz_new.py" in request.prompt_text
    assert (report["summary"]["cache_hits"], report["summary"]["llm_calls"]) == (3, 1)


def test_no_cache_and_no_cache_dir_mean_no_cache(
    capsys: pytest.CaptureFixture[str], model_server: FakeModelServer, tmp_path: Path
) -> None:
    diff, cache = write_diff(tmp_path), tmp_path / "cache"
    review(capsys, model_server, diff, "--cache-dir", str(cache))
    _, report, _ = review(capsys, model_server, diff, "--cache-dir", str(cache), "--no-cache")
    assert "cache_hits" not in report["summary"] and report["summary"]["llm_calls"] == 3
    _, report, _ = review(capsys, model_server, diff)
    assert "cache_hits" not in report["summary"] and len(model_server.requests) == 9


def test_cache_dir_from_the_config_file(
    capsys: pytest.CaptureFixture[str], model_server: FakeModelServer, tmp_path: Path
) -> None:
    config = tmp_path / "cached.toml"
    config.write_text('cache_dir = ".ai-review-cache"\nchunk_tokens = 500\n')
    diff = write_diff(tmp_path)
    args = ["--diff", diff, "--format", "json", "--config", str(config), "--model", MODEL]
    for hits in (0, 3):
        assert main([*args, "--api-base", model_server.base_url]) == 0
        assert json.loads(capsys.readouterr().out)["summary"]["cache_hits"] == hits
    assert len(model_server.requests) == 3
    assert (tmp_path / ".ai-review-cache").is_dir()  # relative to the working directory


def test_a_different_model_or_gateway_is_a_different_answer(
    capsys: pytest.CaptureFixture[str], model_server: FakeModelServer, tmp_path: Path
) -> None:
    diff, cache = write_diff(tmp_path), str(tmp_path / "cache")
    review(capsys, model_server, diff, "--cache-dir", cache)
    _, report, _ = review(
        capsys, model_server, diff, "--cache-dir", cache, "--fallback-model", "openai/gpt-4.1"
    )
    assert report["summary"]["cache_hits"] == 0 and len(model_server.requests) == 6


def test_answers_not_understood_are_not_cached(
    capsys: pytest.CaptureFixture[str], model_server: FakeModelServer, tmp_path: Path
) -> None:
    diff, cache = write_diff(tmp_path, paths=PATHS[:1]), str(tmp_path / "cache")
    model_server.queue(Reply(content="I cannot review this."))
    code, _, _ = review(capsys, model_server, diff, "--cache-dir", cache)
    assert code == 3
    code, report, _ = review(capsys, model_server, diff, "--cache-dir", cache)
    assert code == 0 and report["summary"]["cache_hits"] == 0
    assert len(model_server.requests) == 2


def test_corrupt_entry_warns_once_and_is_replaced(
    capsys: pytest.CaptureFixture[str], model_server: FakeModelServer, tmp_path: Path
) -> None:
    model_server.respond_with(answer)
    diff, cache = write_diff(tmp_path), tmp_path / "cache"
    review(capsys, model_server, diff, "--cache-dir", str(cache))
    entries = sorted(cache.glob("*/*.json"))
    assert len(entries) == 3
    entries[0].write_text('{"format": 1, "text": ')  # cut short
    entries[1].write_text(json.dumps({"format": 1, "text": 3}))
    code, report, err = review(capsys, model_server, diff, "--cache-dir", str(cache))
    assert code == 0 and len(report["findings"]) == 1
    assert err.count("\n") == 1
    assert err.startswith("ai-review: warning: cache entry ignored: ") and "corrupt" in err
    assert report["summary"]["note"].startswith("Cache entry ignored: ")  # the report says it too
    assert "a new answer replaces it." in report["summary"]["note"]
    assert report["summary"]["cache_hits"] == 1 and len(model_server.requests) == 5
    _, report, err = review(capsys, model_server, diff, "--cache-dir", str(cache))
    assert report["summary"]["cache_hits"] == 3 and err == ""  # rewritten with fresh answers
    assert "note" not in report["summary"]


def test_unusable_cache_dir_warns_once_and_reviews_anyway(
    capsys: pytest.CaptureFixture[str], model_server: FakeModelServer, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache directory should be")
    diff = write_diff(tmp_path)
    code, report, err = review(capsys, model_server, diff, "--cache-dir", str(blocker / "cache"))
    assert code == 0 and report["summary"]["llm_calls"] == 3
    assert err.count("\n") == 1
    assert err.startswith("ai-review: warning: cache disabled: cannot create ")
    assert "Traceback" not in err
    assert report["summary"]["note"].startswith("Cache disabled: cannot create ")
    assert report["summary"]["note"].endswith("fix it or pass --no-cache.")


def test_unreadable_entry_disables_the_cache_with_one_warning(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path, SCOPE)
    key = cache.key("system", "user")
    (tmp_path / key[:2] / f"{key}.json").mkdir(parents=True)  # a directory cannot be read
    assert cache.get("system", "user") is None
    assert cache.get("system", "other") is None
    cache.put("system", "other", REPLY)
    assert not cache.enabled
    [note] = cache.notes  # one note for the run to report, however many calls failed
    assert note.startswith("cache disabled: cannot read ")


def test_entries_round_trip_and_are_written_atomically(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "c", SCOPE)
    assert cache.get("system", "user") is None
    cache.put("system", "user", REPLY)
    assert cache.get("system", "user") == ModelReply(
        '{"findings": []}', MODEL, 1000, 200, 0, 0.00072, 1.5, 0, False
    )  # retries are not kept: a cached answer needed none
    [entry] = (tmp_path / "c").glob("*/*")
    assert entry.name == cache.key("system", "user") + ".json"
    assert cache.notes == ()
    assert not list((tmp_path / "c").glob("*/.tmp-*"))


def test_the_key_covers_everything_that_shapes_the_answer(tmp_path: Path) -> None:
    def key(scope: CacheScope = SCOPE, system: str = "s", user: str = "u") -> str:
        return ResponseCache(tmp_path, scope).key(system, user)

    keys = {
        key(),
        key(system="s2"),
        key(user="u2"),
        key(CacheScope((MODEL, "openai/gpt-4.1"), "http://gw/v1", 0.1)),
        key(CacheScope((MODEL,), None, 0.1)),
        key(CacheScope((MODEL,), "http://gw/v1", 0.0)),
    }
    assert len(keys) == 6
    assert key() == key() and len(key()) == 64


def test_budget_counts_cached_chunks_as_free(
    capsys: pytest.CaptureFixture[str], model_server: FakeModelServer, tmp_path: Path
) -> None:
    diff, cache = write_diff(tmp_path), str(tmp_path / "cache")
    review(capsys, model_server, diff, "--cache-dir", cache)
    settings = tmp_path / "tight.toml"
    settings.write_text("chunk_tokens = 500\nmax_prompt_tokens = 10\n")
    args = ["--diff", diff, "--format", "json", "--config", str(settings), "--model", MODEL]
    main([*args, "--api-base", model_server.base_url, "--cache-dir", cache])
    summary = json.loads(capsys.readouterr().out)["summary"]
    assert summary["cache_hits"] == 3 and summary["files_skipped"] == []


def test_provider_cached_tokens_are_counted_and_priced(
    capsys: pytest.CaptureFixture[str], model_server: FakeModelServer, tmp_path: Path
) -> None:
    model_server.set_default(
        findings_reply(prompt_tokens=10_000, completion_tokens=500, cached_tokens=8_000)
    )
    _, report, _ = review(capsys, model_server, write_diff(tmp_path))
    summary = report["summary"]
    assert summary["cached_tokens"] == 3 * 8_000
    # gpt-4.1-mini: input $0.40/M, cached input $0.10/M, output $1.60/M
    per_call = 2_000 * 4e-7 + 8_000 * 1e-7 + 500 * 1.6e-6
    assert summary["cost_usd"] == pytest.approx(3 * per_call)
    assert per_call < 10_000 * 4e-7 + 500 * 1.6e-6
    systems = {json.dumps(r.body["messages"][0]) for r in model_server.requests}
    assert len(systems) == 1  # the static part is identical across chunks, so it caches
    assert all(r.body["messages"][0]["role"] == "system" for r in model_server.requests)


def test_a_stored_answer_that_cannot_be_read_any_more_is_asked_again(
    capsys: pytest.CaptureFixture[str], model_server: FakeModelServer, tmp_path: Path
) -> None:
    model_server.respond_with(answer)
    diff, cache = write_diff(tmp_path), tmp_path / "cache"
    review(capsys, model_server, diff, "--cache-dir", str(cache))
    for entry in cache.glob("*/*.json"):
        stored = json.loads(entry.read_text())
        entry.write_text(json.dumps(stored | {"text": "I cannot review this."}))
    code, report, err = review(capsys, model_server, diff, "--cache-dir", str(cache))
    assert code == 0 and err == "" and len(report["findings"]) == 1
    assert (report["summary"]["cache_hits"], report["summary"]["llm_calls"]) == (0, 3)
    _, report, _ = review(capsys, model_server, diff, "--cache-dir", str(cache))
    assert report["summary"]["cache_hits"] == 3  # replaced by the fresh answers


@pytest.mark.parametrize(
    "content",
    [b"\xff\xfe not utf-8", b'{"format": 99, "text": ""}', b"[]", b'{"format": 1}'],
)
def test_corrupt_entries_are_misses(tmp_path: Path, content: bytes) -> None:
    cache = ResponseCache(tmp_path, SCOPE)
    cache.put("system", "user", REPLY)
    [entry] = tmp_path.glob("*/*.json")
    entry.write_bytes(content)
    assert cache.get("system", "user") is None and cache.enabled
    [note] = cache.notes
    assert "is corrupt" in note


def test_write_failures_disable_the_cache_and_leave_no_temporary_file(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path, SCOPE)
    key = cache.key("system", "user")
    (tmp_path / key[:2] / f"{key}.json").mkdir(parents=True)  # os.replace onto a directory fails
    cache.put("system", "user", REPLY)
    assert not cache.enabled and not list(tmp_path.glob("*/.tmp-*"))
    assert cache.notes == (f"cache disabled: cannot write to {tmp_path} (Is a directory); "
                           "fix it or pass --no-cache",)  # fmt: skip
    blocked = ResponseCache(tmp_path / "b", SCOPE)
    (tmp_path / "b" / cache.key("s", "u")[:2]).write_text("a file where a directory goes")
    blocked.put("s", "u", REPLY)
    assert not blocked.enabled and len(blocked.notes) == 1
    assert blocked.get("s", "u") is None


def test_the_cache_note_joins_the_reviews_other_notes(
    capsys: pytest.CaptureFixture[str], model_server: FakeModelServer, tmp_path: Path
) -> None:
    model_server.respond_with(answer)
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache directory should be")
    settings = tmp_path / "priced.toml"  # a cost cap on a model without a known price
    settings.write_text('depth = "trivial"\nmax_cost_usd = 0.5\n')
    args = ["--diff", write_diff(tmp_path), "--format", "json", "--config", str(settings)]
    args += ["--model", "openai/qwen3-coder", "--api-base", model_server.base_url]
    assert main([*args, "--cache-dir", str(blocker / "cache")]) == 0
    out, err = capsys.readouterr()
    note = json.loads(out)["summary"]["note"]
    assert "max_cost_usd not applied" in note  # the engine's note is kept...
    assert "Cache disabled: cannot create " in note  # ...next to the cache's
    assert err.startswith("ai-review: warning: cache disabled: cannot create ")


def test_a_change_that_writes_into_the_cache_cannot_answer_itself(
    capsys: pytest.CaptureFixture[str], model_server: FakeModelServer, tmp_path: Path
) -> None:
    model_server.respond_with(answer)
    poisoned = tmp_path / "poisoned.diff"
    entry = "diff --git a/.ai-review-cache/ab/x.json b/.ai-review-cache/ab/x.json\n"
    entry += "new file mode 100644\n--- /dev/null\n+++ b/.ai-review-cache/ab/x.json\n"
    entry += '@@ -0,0 +1 @@\n+{"text": "{\\"findings\\": []}"}\n'
    poisoned.write_text(make_diff(PATHS, lines=10) + entry)
    code, report, err = review(
        capsys, model_server, str(poisoned), "--cache-dir", ".ai-review-cache"
    )
    assert code == 0
    assert err == "ai-review: warning: cache disabled: the change touches the cache directory\n"
    assert report["summary"]["note"] == "Cache disabled: the change touches the cache directory."
    assert "cache_hits" not in report["summary"]  # the cache was off
    assert report["summary"]["llm_calls"] == len(model_server.requests) > 0
