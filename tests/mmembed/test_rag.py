"""One-model RAG: passages, prompts with the retrieved sources, answers that carry them."""

import pytest

from mmembed import Client
from mmembed.cli import main
from mmembed.passages import split_passages
from mmembed.rag import build_prompt


def test_passages_cover_the_text_with_overlap():
    text = ("word " * 600).strip() + "\n\nA final paragraph about frogs."
    passages = split_passages(text, max_chars=500, overlap=100)
    assert passages[0][0] == 0 and passages[-1][1] == len(text)
    for (s1, e1, p1), (s2, _, _) in zip(passages, passages[1:]):
        assert s2 < e1 and e1 - s2 <= 120  # overlap of about 100 characters
        assert text[s1:e1] == p1 and len(p1) <= 500
    assert split_passages("short") == [(0, 5, "short")]
    with pytest.raises(ValueError):
        split_passages("x", max_chars=10, overlap=10)


@pytest.fixture
def docs(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "frogs.md").write_text("Frogs are amphibians. " * 80 + "\n\nThe tree frog is green.")
    (folder / "code.py").write_text("def add(a, b):\n    return a + b\n")
    (folder / "trucks.txt").write_text("A fire truck is red and carries ladders.")
    return folder


def test_long_files_become_passages_and_reindexing_is_stable(make_embedder, tmp_path, docs):
    with Client(make_embedder(), store=str(tmp_path / "store")) as client:
        report = client.index(docs, progress=False)
        assert report.added == 3
        frog_points = [p for p in client.store.scroll() if p.payload["relative_path"] == "frogs.md"]
        assert len(frog_points) == frog_points[0].payload["passages"] > 1
        assert sorted(p.payload["passage"] for p in frog_points) == list(range(len(frog_points)))
        count = client.store.count()
        assert client.index(docs, progress=False).unchanged == 3 and client.store.count() == count
        (docs / "frogs.md").write_text("Frogs are small.")
        report = client.index(docs, progress=False)
        assert (
            report.updated == 1
            and len([p for p in client.store.scroll() if p.payload["relative_path"] == "frogs.md"]) == 1
        )


def test_ask_puts_the_retrieved_passages_in_the_prompt_and_returns_them(make_embedder, tmp_path, docs):
    with Client(make_embedder(), store=str(tmp_path / "store")) as client:
        client.index(docs, progress=False)
        expected = client.search("What colour is a fire truck?", k=3)
        answer = client.ask("What colour is a fire truck?", k=3, max_new_tokens=5)
    assert [h.id for h in answer.sources] == [h.id for h in expected]
    for n, hit in enumerate(expected, 1):
        assert f"[{n}] " + " ".join(hit.payload["text"].split())[:60] in answer.prompt
    assert answer.prompt.index("[1]") < answer.prompt.index("[2]") < answer.prompt.index("Question:")
    assert "trucks.txt" in answer.sources_block() or "frogs.md" in answer.sources_block()
    assert isinstance(answer.text, str)


def test_citations_are_read_from_the_answer():
    from mmembed.rag import Answer

    answer = Answer("q", "Red [2], see also [1].", sources=[object(), object(), object()])
    assert answer.cited() == [1, 2]
    assert "(none found)" in build_prompt("q", [])


def test_ask_command_streams_and_lists_sources(tiny_backbone, tmp_path, docs, capsys):
    model = ["--model", str(tiny_backbone), "--device", "cpu", "--store", str(tmp_path / "store")]
    assert main(["index", str(docs), *model]) == 0
    assert main(["ask", "What colour is a fire truck?", "-k", "2", "--max-new-tokens", "4", *model]) == 0
    out = capsys.readouterr().out
    assert "Sources:" in out and "[1] " in out and "[2] " in out


def test_fact_hit_needs_half_the_gold_content_words():
    from mmembed.evaluation.rag import content_words, fact_hit

    assert content_words("The act of calculating again") == {"calculating", "again"}
    assert fact_hit("It means calculating something again.", "the act of calculating again")
    assert not fact_hit("It is a kind of ship.", "the act of calculating again")


def test_kv_reuse_measurement_runs(make_embedder):
    from mmembed.bench.kv_reuse import kv_reuse_upper_bound

    result = kv_reuse_upper_bound(make_embedder(), "What is a cat?", "[1] A cat sits on the mat.", repeats=1)
    assert result["prompt_tokens"] > result["question_tokens"] > 0 and result["full_prefill_s"] > 0


def test_rag_bench_questions_come_from_the_held_out_wordnet_split():
    from mmembed.data.sources.wordnet import wordnet_rows
    from mmembed.data.wordnet import data_noun, parse_data_noun
    from mmembed.evaluation.rag import wordnet_questions

    questions, documents = wordnet_questions(count=30)
    assert len(questions) == 30 and len(documents) == 200
    rows = wordnet_rows(parse_data_noun(data_noun()))
    train_passages = {r["positive"] for r in rows if r["split"] == "train"}
    test_passages = {r["positive"] for r in rows if r["split"] == "test"}
    assert all(d in test_passages and d not in train_passages for d in documents)
