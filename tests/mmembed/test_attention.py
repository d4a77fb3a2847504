"""Embedding-mode attention: bidirectional really is bidirectional, causal stays causal, padding never leaks."""

import pytest
import torch

from mmembed.batching import collate
from mmembed.sequences import TokenSequence

IMPLEMENTATIONS = ["eager", "sdpa"]


def states(embedder, rows, pad_id=None):
    batch = collate(
        [TokenSequence(ids=row, pool_start=0) for row in rows], embedder.pad_id if pad_id is None else pad_id
    )
    with torch.no_grad():
        return embedder.token_states(batch)


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("arch", ["tiny_backbone", "tiny_qwen_backbone", "tiny_gemma3_backbone"])
def test_bidirectional_sees_later_tokens(request, arch, implementation):
    from mmembed import Embedder

    embedder = Embedder.build(
        str(request.getfixturevalue(arch)), device="cpu", attention="bidirectional", attn_implementation=implementation
    )
    assert embedder.decoder.config._attn_implementation == implementation
    base = [5, 6, 7, 8, 9, 10]
    changed = base[:-1] + [11]
    before, after = states(embedder, [base]), states(embedder, [changed])
    assert not torch.allclose(before[0, 0], after[0, 0]), "position 0 must see the token at position 5"

    embedder.config.attention = "causal"
    before, after = states(embedder, [base]), states(embedder, [changed])
    torch.testing.assert_close(before[0, :5], after[0, :5])  # causal: earlier positions are blind to it
    assert not torch.allclose(before[0, 5], after[0, 5])


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("attention", ["bidirectional", "causal"])
@pytest.mark.parametrize("arch", ["tiny_backbone", "tiny_gemma3_backbone"])
def test_padding_never_leaks(request, arch, implementation, attention):
    from mmembed import Embedder

    embedder = Embedder.build(
        str(request.getfixturevalue(arch)), device="cpu", attention=attention, attn_implementation=implementation
    )
    short, long = [5, 6, 7], [5, 6, 7, 8, 9, 10, 11, 12]
    alone = states(embedder, [short])[0]
    padded_a = states(embedder, [long, short], pad_id=0)[1, :3]
    padded_b = states(embedder, [long, short], pad_id=13)[1, :3]  # other pad content, same result
    torch.testing.assert_close(padded_a, alone, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(padded_b, alone, atol=1e-5, rtol=1e-5)


def test_bidirectional_is_restored_after_embedding(make_embedder):
    embedder = make_embedder(attention="bidirectional")
    flags = [m.is_causal for m in embedder.decoder.modules() if hasattr(m, "is_causal")]
    embedder.encode(["A cat sits on the mat."])
    assert flags and all(flags)
    assert [m.is_causal for m in embedder.decoder.modules() if hasattr(m, "is_causal")] == flags
