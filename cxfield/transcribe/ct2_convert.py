"""Converting an openai-whisper ``.pt`` checkpoint into a CTranslate2 model folder, offline.

The route is the one faster-whisper's models were made by: the checkpoint becomes a Hugging
Face ``WhisperForConditionalGeneration`` (the renaming of transformers' own
``convert_openai_to_hf`` script, which transformers 5 no longer ships), saved to a temporary
folder with a generation config and whisper's tokenizer (:mod:`tokenizer_files`, built from
the tiktoken files whisper ships), and CTranslate2's ``TransformersConverter`` writes
``model.bin``, ``config.json`` and ``vocabulary.json`` from it.  Nothing is downloaded.

The weights keep their precision unless asked otherwise: official checkpoints are float16,
randomly built test models float32, so the converted model computes with the very same
numbers as the ``.pt`` file.
"""

from __future__ import annotations

import base64
import gzip
import itertools
import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cxfield.transcribe.engines import hub_offline
from cxfield.transcribe.tokenizer_files import (
    build_tokenizer,
    is_multilingual,
    languages_in,
    special_tokens,
)

QUANTIZATIONS = ("auto", "float32", "float16", "int8")
MISSING_PACKAGES = (
    "Converting needs transformers and ctranslate2: install cxfield's 'fast' extra "
    "(`pip install -e .[fast]`); nothing is downloaded when it runs."
)

#: openai-whisper's weight names → Hugging Face's (transformers' convert_openai_to_hf.py)
_RENAMES = (
    ("blocks", "layers"),
    ("mlp.0", "fc1"),
    ("mlp.2", "fc2"),
    ("mlp_ln", "final_layer_norm"),
    (".attn.query", ".self_attn.q_proj"),
    (".attn.key", ".self_attn.k_proj"),
    (".attn.value", ".self_attn.v_proj"),
    (".attn_ln", ".self_attn_layer_norm"),
    (".attn.out", ".self_attn.out_proj"),
    (".cross_attn.query", ".encoder_attn.q_proj"),
    (".cross_attn.key", ".encoder_attn.k_proj"),
    (".cross_attn.value", ".encoder_attn.v_proj"),
    (".cross_attn_ln", ".encoder_attn_layer_norm"),
    (".cross_attn.out", ".encoder_attn.out_proj"),
    ("decoder.ln.", "decoder.layer_norm."),
    ("encoder.ln.", "encoder.layer_norm."),
    ("token_embedding", "embed_tokens"),
    ("encoder.positional_embedding", "encoder.embed_positions.weight"),
    ("decoder.positional_embedding", "decoder.embed_positions.weight"),
    ("ln_post", "layer_norm"),
)

Step = Callable[[str], None]


def hf_name(openai_name: str) -> str:
    for old, new in _RENAMES:
        openai_name = openai_name.replace(old, new)
    return openai_name


def alignment_heads(dims: dict[str, int], official_name: str | None) -> list[list[int]]:
    """(layer, head) pairs for word timings: OpenAI's measured heads for official models,
    else whisper's default (every head of the last half of the decoder layers)."""
    import numpy as np
    import whisper

    layers, heads = dims["n_text_layer"], dims["n_text_head"]
    dump = whisper._ALIGNMENT_HEADS.get(official_name or "")
    if dump is None:
        return [list(p) for p in itertools.product(range(layers // 2, layers), range(heads))]
    mask = np.frombuffer(gzip.decompress(base64.b85decode(dump)), dtype=bool)
    return [[int(i) // heads, int(i) % heads] for i in np.flatnonzero(mask)]


def generation_settings(dims: dict[str, int], official_name: str | None) -> dict[str, Any]:
    """What CTranslate2's converter reads from a generation config, with whisper's values."""
    from whisper.tokenizer import get_tokenizer

    n_vocab = dims["n_vocab"]
    tokenizer = get_tokenizer(is_multilingual(n_vocab), num_languages=languages_in(n_vocab))
    languages = special_tokens(languages_in(n_vocab))[2 : 2 + languages_in(n_vocab)]
    # the language tokens follow <|endoftext|> and <|startoftranscript|>
    lang_to_id = {token: tokenizer.sot + 1 + i for i, token in enumerate(languages)}
    return {
        "suppress_tokens": list(tokenizer.non_speech_tokens),
        "begin_suppress_tokens": [tokenizer.encode(" ")[0], tokenizer.eot],
        "alignment_heads": alignment_heads(dims, official_name),
        "lang_to_id": lang_to_id if is_multilingual(n_vocab) else {},
        "decoder_start_token_id": tokenizer.sot,
        "eos_token_id": tokenizer.eot,
        "no_timestamps_token_id": tokenizer.no_timestamps,
    }


def _hf_model(checkpoint: dict[str, Any], official_name: str | None) -> Any:
    import torch
    from transformers import GenerationConfig, WhisperConfig, WhisperForConditionalGeneration

    dims = checkpoint["dims"]
    if dims["n_audio_state"] != dims["n_text_state"]:
        raise ValueError("the encoder and decoder widths differ (Hugging Face needs one width)")
    state = {hf_name(k): v for k, v in checkpoint["model_state_dict"].items()}
    dtype = next(iter(state.values())).dtype
    eot = 50257 if is_multilingual(dims["n_vocab"]) else 50256
    config = WhisperConfig(
        vocab_size=dims["n_vocab"],
        num_mel_bins=dims["n_mels"],
        d_model=dims["n_audio_state"],
        encoder_layers=dims["n_audio_layer"],
        encoder_attention_heads=dims["n_audio_head"],
        decoder_layers=dims["n_text_layer"],
        decoder_attention_heads=dims["n_text_head"],
        encoder_ffn_dim=4 * dims["n_audio_state"],
        decoder_ffn_dim=4 * dims["n_text_state"],
        max_source_positions=dims["n_audio_ctx"],
        max_target_positions=dims["n_text_ctx"],
        decoder_start_token_id=eot + 1,
        bos_token_id=eot,
        eos_token_id=eot,
        pad_token_id=eot,
        dtype=dtype,
    )
    with torch.device("meta"):  # no random initialisation: the weights come next
        model = WhisperForConditionalGeneration(config)
    missing, unexpected = model.model.load_state_dict(state, strict=False, assign=True)
    if missing or unexpected:
        raise ValueError(f"{len(missing)} weights missing, {len(unexpected)} unknown")
    model.proj_out.weight = model.model.decoder.embed_tokens.weight  # tied, as in whisper
    settings = generation_settings(dims, official_name)
    model.generation_config = GenerationConfig(**settings)  # type: ignore[no-untyped-call]
    return model


def convert_checkpoint(
    checkpoint_path: Path,
    target: Path,
    official_name: str | None = None,
    quantization: str = "auto",
    on_step: Step | None = None,
) -> Path:
    """Write a CTranslate2 Whisper model folder at ``target`` (which must not exist) from
    an openai-whisper checkpoint.  Raises ``ValueError`` with a short reason."""
    import torch

    step: Step = on_step or (lambda _text: None)
    hub_offline()  # a local folder is converted; nothing is ever looked up on the hub
    _quiet_progress_bars()
    if quantization not in QUANTIZATIONS:
        raise ValueError(f"unknown quantization {quantization!r}; use {', '.join(QUANTIZATIONS)}")
    step("reading the checkpoint")
    checkpoint = torch.load(checkpoint_path, map_location="cpu", weights_only=True)
    dims = checkpoint["dims"]
    step("building the Hugging Face model")
    model = _hf_model(checkpoint, official_name)
    weight_dtype = str(next(model.parameters()).dtype).removeprefix("torch.")
    if quantization == "auto":
        quantization = "float16" if weight_dtype == "float16" else "float32"
    tokenizer = build_tokenizer(dims["n_vocab"])
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".convert-") as tmp:
        hf_dir = Path(tmp) / "hf"
        model.save_pretrained(hf_dir)
        del model, checkpoint
        tokenizer.save(str(hf_dir / "tokenizer.json"))
        (hf_dir / "preprocessor_config.json").write_text(
            json.dumps(preprocessor_config(dims["n_mels"])), encoding="utf-8"
        )
        step("converting to CTranslate2")
        _converter(hf_dir, tokenizer).convert(str(target), quantization=quantization)
    return target


def _quiet_progress_bars() -> None:
    """transformers' own bars (writing and reading weights) would print on stderr."""
    from huggingface_hub.utils import disable_progress_bars  # type: ignore[attr-defined]
    from transformers.utils import logging

    disable_progress_bars()
    logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    logging.set_verbosity_error()  # type: ignore[no-untyped-call]


def preprocessor_config(n_mels: int) -> dict[str, Any]:
    """faster-whisper's feature settings (it reads ``feature_size`` for 128-mel models)."""
    return {
        "feature_size": n_mels,
        "sampling_rate": 16000,
        "hop_length": 160,
        "chunk_length": 30,
        "n_fft": 400,
    }


def _converter(hf_dir: Path, tokenizer: Any) -> Any:
    from ctranslate2.converters import TransformersConverter
    from transformers import PreTrainedTokenizerFast

    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer)  # type: ignore[no-untyped-call]

    class _Converter(TransformersConverter):  # type: ignore[misc]
        """The tokenizer is whisper's own, built here: nothing is looked up by name."""

        def load_tokenizer(self, *_args: Any, **_kwargs: Any) -> Any:
            return fast

    return _Converter(str(hf_dir), copy_files=["tokenizer.json", "preprocessor_config.json"])
