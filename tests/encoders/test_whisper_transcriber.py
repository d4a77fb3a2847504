"""Whisper transcripts are remembered per process: a second transcriber of the same weights (another model of the
same eval, the ASR cascade) reads them instead of decoding again, and decodes only the clips it has not heard."""

import pytest

pytestmark = pytest.mark.integration


def test_a_second_transcriber_reads_what_the_first_heard(tmp_path):
    from encoders import load_audio
    from encoders.whisper_transcriber import forget_transcripts
    from mmembed.data.sources.speech import synthesize
    from mmembed.packaged_whisper import whisper_transcriber

    sentences = ["The red apple is on the table.", "Please open the front door."]
    for i, sentence in enumerate(sentences):
        synthesize(sentence, tmp_path / f"{i}.wav", voice="en-gb")
    waves = [load_audio(tmp_path / f"{i}.wav") for i in range(2)]
    heard = whisper_transcriber().transcribe(waves[:1])
    assert "apple" in heard[0].lower()

    second = whisper_transcriber()
    decoded = []  # the number of windows in each batch the encoder ran on
    second.model.get_encoder().register_forward_hook(lambda _, args, __: decoded.append(args[0].shape[0]))
    both = second.transcribe(waves)
    assert both[0] == heard[0] and "door" in both[1].lower()
    assert decoded == [1]  # only the clip the first transcriber had not heard was decoded
    assert second.transcribe(waves) == both and decoded == [1]
    forget_transcripts()  # what a benchmark does before each repeat
    assert second.transcribe(waves) == both and decoded == [1, 2]
