"""CTranslate2 Whisper model folders (as faster-whisper's models are published): checked
like ``.pt`` checkpoints before they are installed or run.

A folder must hold ``model.bin``, ``config.json``, ``tokenizer.json`` and a vocabulary file
(``vocabulary.json`` or ``vocabulary.txt``).  ``tokenizer.json`` is not optional here:
without it faster-whisper silently downloads one from the Hugging Face hub.  The dimensions
are read from ``model.bin``'s header (every variable's name and shape, the data skipped), so
a truncated file is found without loading it, and checked as whisper's are; then the folder
is loaded once with CTranslate2 to be sure it runs.
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path
from typing import Any, BinaryIO

from cxfield.domain.errors import ValidationError

REQUIRED = ("model.bin", "config.json", "tokenizer.json")
VOCABULARIES = ("vocabulary.json", "vocabulary.txt")
#: copied on import; anything else in a published folder (README, .gitattributes) is not
OPTIONAL = ("preprocessor_config.json",)


def model_files(folder: Path) -> list[Path]:
    """The files of a model folder that an installation keeps."""
    names = [*REQUIRED, *VOCABULARIES, *OPTIONAL]
    return [folder / n for n in names if (folder / n).is_file()]


def check_folder_files(folder: Path) -> None:
    """Refuse a folder that is not a complete CTranslate2 Whisper model, in one line."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValidationError(f"{folder} is not a folder; a CTranslate2 model is a folder.")
    missing = [n for n in REQUIRED if not (folder / n).is_file()]
    if not any((folder / n).is_file() for n in VOCABULARIES):
        missing.append("vocabulary.json or vocabulary.txt")
    if "tokenizer.json" in missing:
        raise ValidationError(
            f"{folder.name} has no tokenizer.json; faster-whisper would fetch one from the "
            "internet, which cxfield never does. Copy the model's tokenizer.json into the "
            "folder (it is published with every faster-whisper model), or convert a .pt "
            "file with `cxfield models convert NAME --to ctranslate2`."
        )
    if missing:
        raise ValidationError(
            f"{folder.name} is not a complete CTranslate2 Whisper model: "
            f"{', '.join(missing)} missing."
        )


def _read(handle: BinaryIO, fmt: str) -> Any:
    size = struct.calcsize(fmt)
    raw = handle.read(size)
    if len(raw) != size:
        raise EOFError
    return struct.unpack("<" + fmt, raw)[0]


def _string(handle: BinaryIO) -> str:
    length = _read(handle, "H")
    raw = handle.read(length)
    if len(raw) != length:
        raise EOFError
    return raw[:-1].decode("utf-8")


def read_header(path: Path) -> tuple[str, dict[str, tuple[list[int], int | None]]]:
    """The spec name and every variable of a ``model.bin``: name → (shape, value of a
    scalar or None).  The data are skipped; a file shorter than its header says raises
    ``EOFError``."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        version = _read(handle, "I")
        if not 2 <= version <= 6:
            raise ValueError(f"binary version {version} is not one CTranslate2 4 reads")
        spec = _string(handle)
        _read(handle, "I")  # revision
        variables: dict[str, tuple[list[int], int | None]] = {}
        for _ in range(_read(handle, "I")):
            name = _string(handle)
            shape = [_read(handle, "I") for _ in range(_read(handle, "B"))]
            if version >= 4:
                dtype, num_bytes = _read(handle, "B"), _read(handle, "I")
            else:
                item = _read(handle, "B")
                dtype, num_bytes = {4: 0, 1: 1, 2: 2}.get(item, 0), _read(handle, "I") * item
            value = None
            fmt = {1: "b", 2: "h", 3: "i"}.get(dtype, "")
            if not shape and fmt and struct.calcsize(fmt) == num_bytes:
                value = int(_read(handle, fmt))  # an attribute such as num_heads
            else:
                if handle.tell() + num_bytes > size:
                    raise EOFError
                handle.seek(num_bytes, 1)
            variables[name] = (shape, value)
    return spec, variables


def dims_of(variables: dict[str, tuple[list[int], int | None]]) -> dict[str, int]:
    """Whisper's ``ModelDimensions`` from a CTranslate2 Whisper model's variables."""

    def shape(name: str) -> list[int]:
        if name not in variables:
            raise ValueError(f"no {name} in the model")
        return variables[name][0]

    def scalar(name: str) -> int:
        value = variables.get(name, ([], None))[1]
        if value is None:
            raise ValueError(f"no {name} in the model")
        return value

    def layers(part: str) -> int:
        found = {k.split("/")[1] for k in variables if k.startswith(f"{part}/layer_")}
        return len(found)

    conv1 = shape("encoder/conv1/weight")
    embeddings = shape("decoder/embeddings/weight")
    return {
        "n_mels": conv1[1],
        "n_vocab": embeddings[0],
        "n_audio_ctx": shape("encoder/position_encodings/encodings")[0],
        "n_audio_state": conv1[0],
        "n_audio_head": scalar("encoder/num_heads"),
        "n_audio_layer": layers("encoder"),
        "n_text_ctx": shape("decoder/position_encodings/encodings")[0],
        "n_text_state": embeddings[1],
        "n_text_head": scalar("decoder/num_heads"),
        "n_text_layer": layers("decoder"),
    }


def inspect_folder(folder: Path, display_name: str | None = None) -> dict[str, int]:
    """Check a CTranslate2 Whisper folder (files, header, dimensions, tokenizer) without
    loading the weights; returns its dimensions."""
    from whisper.model import ModelDimensions

    from cxfield.transcribe.model_store import check_dimensions

    folder = Path(folder)
    check_folder_files(folder)
    problem = f"{display_name or folder.name} is not a usable CTranslate2 Whisper model"
    try:
        spec, variables = read_header(folder / "model.bin")
    except EOFError:
        raise ValidationError(
            f"{problem} (model.bin is truncated); copy the folder again from the source."
        ) from None
    except (ValueError, UnicodeDecodeError, struct.error) as exc:
        raise ValidationError(f"{problem} (model.bin: {exc}).") from exc
    if spec != "WhisperSpec":
        raise ValidationError(f"{problem}: model.bin holds a {spec}, not a Whisper model.")
    try:
        dims = dims_of(variables)
        check_dimensions(ModelDimensions(**dims))
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"{problem} (bad dimensions: {exc}).") from exc
    try:
        json.loads((folder / "config.json").read_text(encoding="utf-8"))
        tokens = _tokenizer_size(folder / "tokenizer.json")
    except (OSError, ValueError, RuntimeError, UnicodeDecodeError) as exc:
        raise ValidationError(f"{problem} (config.json or tokenizer.json unreadable).") from exc
    if tokens != dims["n_vocab"]:
        raise ValidationError(
            f"{problem}: its tokenizer.json has {tokens} tokens, the model {dims['n_vocab']}."
        )
    return dims


def _tokenizer_size(path: Path) -> int:
    from tokenizers import Tokenizer

    size: int = Tokenizer.from_file(str(path)).get_vocab_size(with_added_tokens=True)
    return size


def load_check(folder: Path, display_name: str | None = None) -> None:
    """Load the folder once with CTranslate2 (int8, one thread) and free it again."""
    import ctranslate2

    try:
        model = ctranslate2.models.Whisper(
            str(folder), device="cpu", compute_type="int8", intra_threads=1
        )
    except Exception as exc:  # CTranslate2 raises RuntimeError/ValueError
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValidationError(
            f"{display_name or folder.name} does not load with CTranslate2 ({reason})."
        ) from exc
    del model


def default_name(folder: Path) -> str:
    """``faster-whisper-small`` (as published) installs as ``small``, beside ``small.pt``."""
    name = folder.resolve().name
    for prefix in ("faster-whisper-", "whisper-"):
        if name.startswith(prefix) and len(name) > len(prefix):
            return name[len(prefix) :]
    return name.removesuffix(".ct2")


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in model_files(folder))


def _hash_into(digest: Any, path: Path, sink: BinaryIO | None, step: Any) -> None:
    digest.update(path.name.encode() + b"\0")
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            if sink is not None:
                sink.write(chunk)
            step(len(chunk))


def _walk(folder: Path, target: Path | None, on_progress: Any) -> str:
    import hashlib

    files = model_files(folder)
    total = sum(p.stat().st_size for p in files)
    done = 0
    digest = hashlib.sha256()

    def step(n: int) -> None:
        nonlocal done
        done += n
        if on_progress is not None:
            on_progress(done, total)

    for path in files:
        if target is None:
            _hash_into(digest, path, None, step)
            continue
        with (target / path.name).open("wb") as out:
            _hash_into(digest, path, out, step)
            out.flush()
            os.fsync(out.fileno())
    if done != total:
        raise ValidationError(f"{folder} changed while it was copied; copy it again.")
    return digest.hexdigest()


def hash_folder(folder: Path, on_progress: Any = None) -> str:
    """One SHA-256 over the kept files of a model folder (names and contents, in order)."""
    return _walk(folder, None, on_progress)


def copy_folder(source: Path, target: Path, on_progress: Any = None) -> str:
    """Copy the kept files of ``source`` into a new folder ``target``; returns the digest."""
    target.mkdir(mode=0o700)
    return _walk(source, target, on_progress)
