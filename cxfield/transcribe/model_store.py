"""Whisper checkpoints in the data directory's ``models/`` folder.

Each installed model is ``NAME.pt`` with a ``NAME.json`` beside it recording what was
checked: the SHA-256, and for official names whether it matches the one whisper's own model
table carries (the hash is part of each download URL in ``whisper._MODELS``).  A file is
first written as a hidden ``.NAME.pt.part`` and only renamed into place once verified, so an
interrupted copy or a corrupt checkpoint never looks installed.

A model for the ctranslate2 engine is a folder ``NAME.ct2/`` (``model.bin``, ``config.json``,
``tokenizer.json``, the vocabulary) with ``NAME.ct2.json`` beside it, copied into a hidden
``.NAME.ct2.part/`` and renamed the same way (:mod:`ct2_models` checks it).  One name can
have both forms: the engine chooses which one runs.
"""

from __future__ import annotations

import builtins
import functools
import hashlib
import json
import os
import re
import shutil
import tempfile
import urllib.error
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cxfield.domain.errors import CxfieldError, NotFoundError, ValidationError

ProgressFn = Callable[[int, int], None]
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_CHUNK = 1 << 20
ENGLISH_ONLY_VOCAB = 51864
OPENAI_WHISPER = "openai-whisper"
CTRANSLATE2 = "ctranslate2"
CT2_SUFFIX = ".ct2"


class ModelError(CxfieldError):
    """A model is missing, unknown or unusable; the message says what to do."""


#: where the desktop app installs models, for messages shown in the app
MODELS_PAGE = "Transcription → Models… (Ctrl+Shift+T)"


def how_to_install_in_app(name: str) -> str:
    """:meth:`ModelStore.how_to_install` for a user of the desktop app."""
    return (
        f"Open {MODELS_PAGE}: Import .pt file… copies {name}.pt from a USB stick, "
        "Download… fetches it when online."
    )


def official_models() -> dict[str, str]:
    """Official model name → expected SHA-256, from whisper's own table."""
    import whisper

    return {name: url.split("/")[-2] for name, url in whisper._MODELS.items()}


@dataclass
class InstalledModel:
    name: str
    path: Path
    size_bytes: int
    sha256: str
    verified: bool
    official: bool
    languages: str
    dims: dict[str, int]
    source: str = ""
    installed_at: str = ""
    problem: str = ""
    #: which engine runs it: openai-whisper (a .pt file) or ctranslate2 (a folder)
    engine: str = OPENAI_WHISPER

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["path"] = str(self.path)
        return data


class ModelStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    # --- listing and lookup ----------------------------------------------------------

    def list(self) -> list[InstalledModel]:
        if not self.root.is_dir():
            return []
        found = [self._describe(p) for p in self.root.glob("*.pt")]
        found += [self._describe(p) for p in self.root.glob(f"*{CT2_SUFFIX}") if p.is_dir()]
        return sorted(found, key=lambda m: (m.name, m.engine))

    def get(self, name: str, engine: str = OPENAI_WHISPER) -> InstalledModel:
        path = self._path(name, engine)
        if not path.exists():
            if engine == CTRANSLATE2:
                raise NotFoundError(self._no_ct2(name))
            raise NotFoundError(
                f"Model {name!r} is not installed. {self.how_to_install(name)}",
                in_app=f"Model {name!r} is not installed. {how_to_install_in_app(name)}",
            )
        return self._describe(path)

    def _path(self, name: str, engine: str) -> Path:
        if engine == CTRANSLATE2:
            return self.root / f"{name}{CT2_SUFFIX}"
        return self.root / f"{name}.pt"

    def _no_ct2(self, name: str) -> str:
        start = f"Model {name!r} has no CTranslate2 version installed (the ctranslate2 engine "
        if (self.root / f"{name}.pt").is_file():
            return (
                f"{start}needs one). Convert the installed {name}.pt with "
                f"`cxfield models convert {name} --to ctranslate2`, or import a faster-whisper "
                "folder with `cxfield models import DIR`."
            )
        return (
            f"{start}needs one). Import a faster-whisper model folder with `cxfield models "
            f"import DIR`, or install {name}.pt and convert it with `cxfield models convert`."
        )

    def resolve(self, name_or_path: str, engine: str = OPENAI_WHISPER) -> tuple[Path, str | None]:
        """The checkpoint file (or CTranslate2 folder) for a model name or a path, and the
        official name whose alignment heads apply (None for custom checkpoints)."""
        if engine == CTRANSLATE2:
            return self._resolve_ct2(name_or_path)
        candidate = Path(name_or_path).expanduser()
        if candidate.suffix == ".pt" or os.sep in name_or_path:
            if not candidate.is_file():
                raise ModelError(f"Model file {candidate} does not exist.")
            return candidate, None
        installed = self.root / f"{name_or_path}.pt"
        if installed.is_file():
            official = name_or_path if name_or_path in official_models() else None
            return installed, official
        if name_or_path in official_models():
            missing = f"Model {name_or_path!r} is not installed."
            raise ModelError(
                f"{missing} {self.how_to_install(name_or_path)}",
                in_app=f"{missing} {how_to_install_in_app(name_or_path)}",
            )
        names = ", ".join(m.name for m in self.list() if m.engine == engine) or "none"
        raise ModelError(
            f"Unknown model {name_or_path!r}. Installed: {names}. Official names: "
            f"{', '.join(official_models())}. Or give the path of a .pt checkpoint."
        )

    def _resolve_ct2(self, name_or_path: str) -> tuple[Path, str | None]:
        candidate = Path(name_or_path).expanduser()
        if os.sep in name_or_path or candidate.suffix == CT2_SUFFIX:
            if not candidate.is_dir():
                raise ModelError(f"Model folder {candidate} does not exist.")
            return candidate, None
        installed = self.root / f"{name_or_path}{CT2_SUFFIX}"
        if installed.is_dir():
            official = name_or_path if name_or_path in official_models() else None
            return installed, official
        raise ModelError(self._no_ct2(name_or_path))

    def check_usable(
        self, name_or_path: str, engine: str = OPENAI_WHISPER
    ) -> tuple[Path, str | None]:
        """:meth:`resolve`, then make sure the model loads: an installed model verified
        since its last change is trusted, any other is inspected (its dimensions against
        its weights, without loading them).  Raises :class:`ModelError` with one line, so a
        command fails once instead of once per recording."""
        path, official = self.resolve(name_or_path, engine)
        if path.parent == self.root and path.suffix in (".pt", CT2_SUFFIX):
            installed = self._describe(path)
            if installed.verified:
                return path, official
        try:
            if engine == CTRANSLATE2:
                from cxfield.transcribe.ct2_models import inspect_folder

                inspect_folder(path)
            else:
                _inspect_once(str(path), *_identity(path))
        except ValidationError as exc:
            raise ModelError(str(exc)) from exc
        return path, official

    def how_to_install(self, name: str) -> str:
        return (
            f"Copy {name}.pt from a USB stick and run `cxfield models import PATH` "
            f"(installs into {self.root}), or run `cxfield models download {name}` when online."
        )

    # --- installing ------------------------------------------------------------------

    def import_file(
        self, source: Path, name: str | None = None, on_progress: ProgressFn | None = None
    ) -> InstalledModel:
        """Copy a checkpoint into the store, verifying it on the way; nothing is left
        behind when it fails."""
        source = Path(source).expanduser()
        if not source.is_file():
            raise NotFoundError(f"Model file {source} does not exist.")
        name = name or source.stem
        self._check_name(name)
        self.root.mkdir(parents=True, exist_ok=True)
        part = self.root / f".{name}.pt.part"
        try:
            digest = _copy_hashing(source, part, on_progress)
            info = self._verify_file(part, name, digest, source.name)
            self._install(part, name, info, source=str(source))
        finally:
            part.unlink(missing_ok=True)
        return self.get(name)

    def download(
        self, name: str, url: str | None = None, on_progress: ProgressFn | None = None
    ) -> InstalledModel:
        """Download an official model with whisper's own downloader (which checks the
        SHA-256), into a temporary folder first."""
        import whisper

        if url is None:
            if name not in whisper._MODELS:
                raise ModelError(
                    f"Unknown model {name!r}; official names: {', '.join(whisper._MODELS)}."
                )
            url = whisper._MODELS[name]
        self._check_name(name)
        self.root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self.root, prefix=".download-") as tmp:
            try:
                downloaded = Path(str(whisper._download(url, tmp, in_memory=False)))
            except (urllib.error.URLError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                offline = (
                    f"Cannot download {name}: this computer is offline or cannot reach "
                    f"the model server ({reason}). Copy {name}.pt from another computer and "
                )
                raise ModelError(
                    f"{offline}run `cxfield models import PATH`.",
                    in_app=f"{offline}install it here with the Import .pt file… button.",
                ) from exc
            except RuntimeError as exc:  # whisper's checksum failure
                raise ModelError(f"Download of {name} failed: {exc}") from exc
            digest = sha256_file(downloaded, on_progress)
            info = self._verify_file(downloaded, name, digest)
            self._install(downloaded, name, info, source=url)
        return self.get(name)

    def import_folder(
        self, source: Path, name: str | None = None, on_progress: ProgressFn | None = None
    ) -> InstalledModel:
        """Install a CTranslate2 model folder (as faster-whisper's are published): checked
        before it is copied (files, header, dimensions, tokenizer), copied into a hidden
        folder, loaded once, then renamed into place; nothing is left behind on failure."""
        from cxfield.transcribe import ct2_models

        source = Path(source).expanduser()
        ct2_models.inspect_folder(source)
        name = name or ct2_models.default_name(source)
        self._check_name(name)
        self.root.mkdir(parents=True, exist_ok=True)
        part = self.root / f".{name}{CT2_SUFFIX}.part"
        shutil.rmtree(part, ignore_errors=True)
        try:
            digest = ct2_models.copy_folder(source, part, on_progress)
            info = self._verify_folder(part, digest, source.name)
            self._install_folder(part, name, info, source=str(source))
        finally:
            shutil.rmtree(part, ignore_errors=True)
        return self.get(name, CTRANSLATE2)

    def convert(
        self,
        name: str,
        quantization: str = "auto",
        on_step: Callable[[str], None] | None = None,
    ) -> InstalledModel:
        """Make the CTranslate2 version of an installed ``.pt`` model, offline (see
        :mod:`ct2_convert`); it is installed under the same name."""
        from cxfield.transcribe import ct2_convert, ct2_models

        model = self.get(name)
        if not model.verified:
            self.verify(name)
        official = name if model.official else None
        part = self.root / f".{name}{CT2_SUFFIX}.part"
        shutil.rmtree(part, ignore_errors=True)
        try:
            try:
                ct2_convert.convert_checkpoint(model.path, part, official, quantization, on_step)
            except ImportError as exc:
                raise ModelError(ct2_convert.MISSING_PACKAGES) from exc
            except ValueError as exc:
                raise ModelError(f"Cannot convert {name}: {exc}.") from exc
            if on_step is not None:
                on_step("checking the converted model")
            digest = ct2_models.hash_folder(part)
            info = self._verify_folder(part, digest, f"{name} (converted)")
            info["official"] = model.official
            self._install_folder(part, name, info, source=f"converted from {model.path.name}")
        finally:
            shutil.rmtree(part, ignore_errors=True)
        return self.get(name, CTRANSLATE2)

    def verify(
        self, name: str, on_progress: ProgressFn | None = None, engine: str = OPENAI_WHISPER
    ) -> InstalledModel:
        """Check an installed model again (hash and structure) and record the result."""
        model = self.get(name, engine)
        meta_name = model.path.name if engine == CTRANSLATE2 else name
        try:
            if engine == CTRANSLATE2:
                from cxfield.transcribe import ct2_models

                digest = ct2_models.hash_folder(model.path, on_progress)
                info = self._verify_folder(model.path, digest)
            else:
                digest = sha256_file(model.path, on_progress)
                info = self._verify_file(model.path, name, digest)
        except ValidationError as exc:
            self._write_meta(meta_name, {"sha256": digest, "verified": False, "problem": str(exc)})
            raise
        meta = self._read_meta(meta_name)
        meta.update(info)
        self._write_meta(meta_name, meta)
        return self.get(name, engine)

    def engines_of(self, name: str) -> builtins.list[str]:
        """Which forms of the model ``name`` are installed."""
        return [e for e in (OPENAI_WHISPER, CTRANSLATE2) if self._path(name, e).exists()]

    def remove(self, name: str, engine: str | None = None) -> str:
        """Delete an installed model; with both forms installed, ``engine`` says which.
        Returns the engine whose model was removed."""
        self._check_name(name)
        present = self.engines_of(name)
        if engine is not None and engine not in present:
            present = []
        if not present:
            installed = ", ".join(sorted({m.name for m in self.list()})) or "none"
            raise NotFoundError(f"Model {name!r} is not installed (installed: {installed}).")
        if engine is None and len(present) > 1:
            raise ValidationError(
                f"{name} is installed for both engines; say which with "
                f"--engine {' or --engine '.join(present)}."
            )
        chosen = engine or present[0]
        path = self._path(name, chosen)
        if chosen == CTRANSLATE2:
            shutil.rmtree(path)
            (self.root / f"{path.name}.json").unlink(missing_ok=True)
        else:
            path.unlink()
            (self.root / f"{name}.json").unlink(missing_ok=True)
        return chosen

    # --- internals -------------------------------------------------------------------

    def _check_name(self, name: str) -> None:
        if not _NAME.match(name):
            raise ValidationError(
                f"Invalid model name {name!r}: use letters, digits, '.', '-' or '_'."
            )

    def _verify_file(
        self, path: Path, name: str, digest: str, display_name: str | None = None
    ) -> dict[str, Any]:
        expected = official_models().get(name)
        if expected is not None and digest != expected:
            raise ValidationError(
                f"{display_name or path.name} is not the official {name} model: its SHA-256 "
                "does not match whisper's (the copy is corrupt or truncated, or it is "
                "another model). "
                "Copy it again, or import it under another name."
            )
        dims = inspect_checkpoint(path, display_name)
        return {
            "sha256": digest,
            "verified": True,
            "official": expected is not None,
            "dims": dims,
            "size": path.stat().st_size,
            "problem": "",
        }

    def _install(self, file: Path, name: str, info: dict[str, Any], source: str) -> None:
        meta = {**info, "source": source, "installed_at": datetime.now(UTC).isoformat()}
        target = self.root / f"{name}.pt"
        os.replace(file, target)  # same folder: atomic
        self._write_meta(name, meta)

    def _verify_folder(
        self, folder: Path, digest: str, display_name: str | None = None
    ) -> dict[str, Any]:
        from cxfield.transcribe import ct2_models

        dims = ct2_models.inspect_folder(folder, display_name)
        ct2_models.load_check(folder, display_name)
        return {
            "sha256": digest,
            "verified": True,
            "official": False,
            "dims": dims,
            "size": ct2_models.folder_size(folder),
            "problem": "",
        }

    def _install_folder(self, part: Path, name: str, info: dict[str, Any], source: str) -> None:
        meta = {**info, "source": source, "installed_at": datetime.now(UTC).isoformat()}
        target = self.root / f"{name}{CT2_SUFFIX}"
        if target.exists():  # replacing a folder is two renames: the old one goes aside
            old = self.root / f".{name}{CT2_SUFFIX}.old"
            shutil.rmtree(old, ignore_errors=True)
            os.replace(target, old)
            os.replace(part, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(part, target)
        self._write_meta(target.name, meta)

    def _read_meta(self, name: str) -> dict[str, Any]:
        try:
            data = json.loads((self.root / f"{name}.json").read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else {}
        except (OSError, json.JSONDecodeError):
            return {}

    def _write_meta(self, name: str, meta: dict[str, Any]) -> None:
        tmp = self.root / f".{name}.json.part"
        tmp.write_text(json.dumps(meta, indent=2), encoding="utf-8")
        os.replace(tmp, self.root / f"{name}.json")

    def _describe(self, path: Path) -> InstalledModel:
        engine = CTRANSLATE2 if path.is_dir() else OPENAI_WHISPER
        name = path.stem
        meta = self._read_meta(path.name if engine == CTRANSLATE2 else name)
        dims = meta.get("dims") or {}
        if engine == CTRANSLATE2:
            from cxfield.transcribe.ct2_models import folder_size

            size = folder_size(path)
        else:
            size = path.stat().st_size
        problem = str(meta.get("problem", "")) or ("" if meta else "not verified yet")
        verified = bool(meta.get("verified"))
        if verified and meta.get("size") != size:
            verified, problem = False, "the file changed since it was verified"
        return InstalledModel(
            name=name,
            path=path,
            size_bytes=size,
            sha256=str(meta.get("sha256", "")),
            verified=verified,
            official=bool(meta.get("official")),
            languages=languages_of(dims),
            dims=dims,
            source=str(meta.get("source", "")),
            installed_at=str(meta.get("installed_at", "")),
            problem=problem,
            engine=engine,
        )


def languages_of(dims: dict[str, Any]) -> str:
    n_vocab = dims.get("n_vocab")
    if not n_vocab:
        return "?"
    if n_vocab <= ENGLISH_ONLY_VOCAB:
        return "English only"
    return f"{n_vocab - 51765 - 1} languages"


def _identity(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_size, info.st_mtime_ns


@functools.lru_cache(maxsize=8)
def _inspect_once(path: str, _size: int, _mtime_ns: int) -> dict[str, int]:
    """:func:`inspect_checkpoint`, once per file version in a process (a queue of several
    recordings checks its model once)."""
    return inspect_checkpoint(Path(path))


def check_dimensions(dims: Any) -> None:
    """Dimensions that whisper can run, whatever the weights: 30-second windows (1500
    audio positions), 80 or 128 mel bands, a vocabulary its tokenizer knows, and heads that
    divide the width of their layer."""
    from whisper.audio import N_FRAMES

    values = asdict(dims)
    bad = [k for k, v in values.items() if type(v) is not int or v < 1]
    if bad:
        raise ValueError(f"{', '.join(bad)} must be whole numbers above 0")
    if dims.n_audio_ctx != N_FRAMES // 2:
        raise ValueError(f"n_audio_ctx is {dims.n_audio_ctx}; whisper needs {N_FRAMES // 2}")
    if dims.n_mels not in (80, 128):
        raise ValueError(f"n_mels is {dims.n_mels}; whisper has mel filters for 80 and 128")
    if not ENGLISH_ONLY_VOCAB <= dims.n_vocab <= ENGLISH_ONLY_VOCAB + 2:
        raise ValueError(f"n_vocab is {dims.n_vocab}; whisper's tokenizers have 51864-51866")
    for state, head in (("n_audio_state", "n_audio_head"), ("n_text_state", "n_text_head")):
        if values[state] % values[head]:
            raise ValueError(f"{head} ({values[head]}) does not divide {state} ({values[state]})")


def inspect_checkpoint(path: Path, display_name: str | None = None) -> dict[str, int]:
    """Check that ``path`` is a Whisper checkpoint whose weights fit its dimensions (every
    weight present, none extra, each of the right shape) and whose dimensions whisper can
    run, without loading the weights into memory (memory-mapped, model built on 'meta')."""
    import torch
    from whisper.model import AudioEncoder, ModelDimensions, TextDecoder

    problem = f"{display_name or path.name} is not a usable Whisper checkpoint"
    try:
        try:
            checkpoint = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        except RuntimeError as exc:
            if "mmap" not in str(exc):
                raise
            # a legacy (pre-zip) torch file cannot be memory-mapped: read it normally
            checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for truncated/corrupt zips
        # torch's own text is long and about pickling; the user needs the conclusion
        raise ValidationError(
            f"{problem} (the file is truncated or corrupt); copy it again from the source."
        ) from exc
    if not isinstance(checkpoint, dict) or not {"dims", "model_state_dict"} <= checkpoint.keys():
        raise ValidationError(f"{problem} (no 'dims' and 'model_state_dict' in it).")
    try:
        dims = ModelDimensions(**checkpoint["dims"])
        check_dimensions(dims)
        # the encoder and decoder hold every weight; 'meta' tensors take no memory
        with torch.device("meta"):
            expected = {
                f"{prefix}.{key}": value
                for prefix, part in (
                    ("encoder", AudioEncoder(
                        dims.n_mels, dims.n_audio_ctx, dims.n_audio_state, dims.n_audio_head,
                        dims.n_audio_layer,
                    )),
                    ("decoder", TextDecoder(
                        dims.n_vocab, dims.n_text_ctx, dims.n_text_state, dims.n_text_head,
                        dims.n_text_layer,
                    )),
                )
                for key, value in part.state_dict().items()
            }  # fmt: skip
    except (TypeError, ValueError, RuntimeError) as exc:
        raise ValidationError(f"{problem} (bad dimensions: {exc}).") from exc
    state = checkpoint["model_state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValidationError(f"{problem} (its 'model_state_dict' is not a set of weights).")
    missing = [k for k in expected if k not in state]
    extra = [k for k in state if k not in expected]
    wrong = [k for k in expected if k in state and state[k].shape != expected[k].shape]
    if missing or extra or wrong:
        raise ValidationError(
            f"{problem}: its dimensions do not match its weights ({len(missing)} weights "
            f"missing, {len(extra)} not in a model of these dimensions, {len(wrong)} of the "
            "wrong shape)."
        )
    return {k: int(v) for k, v in asdict(dims).items()}


def sha256_file(path: Path, on_progress: ProgressFn | None = None) -> str:
    total = path.stat().st_size
    digest = hashlib.sha256()
    done = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            done += len(chunk)
            if on_progress is not None:
                on_progress(done, total)
    return digest.hexdigest()


def _copy_hashing(source: Path, target: Path, on_progress: ProgressFn | None) -> str:
    total = source.stat().st_size
    digest = hashlib.sha256()
    done = 0
    with source.open("rb") as src, target.open("wb") as dst:
        while chunk := src.read(_CHUNK):
            digest.update(chunk)
            dst.write(chunk)
            done += len(chunk)
            if on_progress is not None:
                on_progress(done, total)
        dst.flush()
        os.fsync(dst.fileno())
    if done != total:
        raise ValidationError(f"{source} changed while it was copied; copy it again.")
    shutil.copystat(source, target, follow_symlinks=True)
    return digest.hexdigest()
