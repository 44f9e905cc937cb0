"""Whisper's tokenizer as a Hugging Face ``tokenizer.json``, built offline.

faster-whisper reads its tokenizer from ``tokenizer.json`` in the model folder (and fetches
one from the Hugging Face hub when the file is missing, which cxfield never lets happen).
openai-whisper ships the same byte-level BPE as tiktoken rank files
(``whisper/assets/gpt2.tiktoken`` for English-only models, ``multilingual.tiktoken``); a BPE
over ranks is the same as one over merges once each token's merge is derived from the ranks
(every token longer than one byte is the merge of two shorter tokens, applied in rank
order).  The special tokens follow in whisper's own order, so every id is whisper's.
"""

from __future__ import annotations

import base64
import functools
from pathlib import Path
from typing import Any

ENGLISH_ONLY_VOCAB = 51864


def languages_in(n_vocab: int) -> int:
    """How many language tokens a vocabulary of ``n_vocab`` holds (99, or 100 for
    large-v3's 51866); English-only models carry the 99 too."""
    return 100 if n_vocab > ENGLISH_ONLY_VOCAB + 1 else 99


def is_multilingual(n_vocab: int) -> bool:
    return n_vocab > ENGLISH_ONLY_VOCAB


def special_tokens(num_languages: int) -> list[str]:
    """Whisper's special tokens in id order (``whisper.tokenizer.get_encoding``)."""
    from whisper.tokenizer import LANGUAGES

    return [
        "<|endoftext|>",
        "<|startoftranscript|>",
        *[f"<|{lang}|>" for lang in list(LANGUAGES)[:num_languages]],
        "<|translate|>",
        "<|transcribe|>",
        "<|startoflm|>",
        "<|startofprev|>",
        "<|nospeech|>",
        "<|notimestamps|>",
        *[f"<|{i * 0.02:.2f}|>" for i in range(1501)],
    ]


def _byte_to_unicode() -> dict[int, str]:
    """GPT-2's printable stand-in for every byte (the alphabet of byte-level BPE files)."""
    keep = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1)]
    keep += list(range(ord("®"), ord("ÿ") + 1))
    table = {b: chr(b) for b in keep}
    extra = 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + extra)
            extra += 1
    return table


@functools.lru_cache(maxsize=2)
def _ranks(multilingual: bool) -> dict[bytes, int]:
    import whisper

    name = "multilingual" if multilingual else "gpt2"
    path = Path(whisper.__file__).parent / "assets" / f"{name}.tiktoken"
    with path.open(encoding="ascii") as handle:
        pairs = (line.split() for line in handle if line.strip())
        return {base64.b64decode(token): int(rank) for token, rank in pairs}


def build_tokenizer(n_vocab: int) -> Any:
    """A ``tokenizers.Tokenizer`` with whisper's ids for a model of ``n_vocab`` tokens."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers

    ranks = _ranks(is_multilingual(n_vocab))
    table = _byte_to_unicode()

    def text(token: bytes) -> str:
        return "".join(table[b] for b in token)

    merges: list[tuple[bytes, bytes, int]] = []
    for token, rank in ranks.items():
        if len(token) == 1:
            continue
        splits = [
            (token[:i], token[i:], rank)
            for i in range(1, len(token))
            if token[:i] in ranks and token[i:] in ranks
        ]
        splits.sort(key=lambda s: (ranks[s[0]], ranks[s[1]]))
        merges.extend(splits)
    merges.sort(key=lambda s: s[2])
    model = models.BPE(
        {text(token): rank for token, rank in ranks.items()},
        [(text(a), text(b)) for a, b, _ in merges],
        fuse_unk=False,
        ignore_merges=True,  # tiktoken: a word that is a token is never split
    )
    tokenizer = Tokenizer(model)
    # ByteLevel's split pattern is GPT-2's, which is whisper's (``pat_str``)
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tokenizer.decoder = decoders.ByteLevel()
    specials = special_tokens(languages_in(n_vocab))
    tokenizer.add_special_tokens(
        [AddedToken(token, special=True, normalized=False) for token in specials]
    )
    if tokenizer.get_vocab_size() != n_vocab:
        raise ValueError(
            f"whisper's tokenizer has {tokenizer.get_vocab_size()} tokens, the model {n_vocab}"
        )
    return tokenizer


def write_tokenizer(n_vocab: int, path: Path) -> Path:
    build_tokenizer(n_vocab).save(str(path))
    return path
