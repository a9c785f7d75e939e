"""The model a pipeline starts from, resolved once: its files, program signature, identity, preprocessing and task head.

Whatever brought the model (paddle-edge's own training, a PaddleOCR export, `paddle-edge fetch`), every stage after it
(compress, export, parity) takes this one value instead of reading the directory again.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Dict, Optional, Tuple, Union

from ..runtime.errors import PaddleEdgeError
from ..runtime.manifest import Preprocess, TensorSpec
from .card import ModelCard
from .model_config import CONFIG_NAME, ModelConfig, read_model_config
from .paddle_program import ModelFiles, ProgramInfo, find_model_files, network_difference, read_program


@dataclasses.dataclass(frozen=True)
class SourceModel:
    """A Paddle inference model and everything paddle-edge needs to know about it."""

    directory: Path
    files: ModelFiles
    program: ProgramInfo
    sha256: str
    name: str
    task: str
    preprocess: Preprocess
    postprocess: Dict[str, Any]
    labels: Optional[Tuple[str, ...]]
    card: Optional[ModelCard]  # paddle-edge's own card, for a model it trained or quantized
    config: Optional[Path]  # the inference.yml the preprocessing came from

    @property
    def inputs(self) -> Tuple[TensorSpec, ...]:
        return self.card.inputs if self.card else self.program.inputs

    @property
    def outputs(self) -> Tuple[TensorSpec, ...]:
        return self.card.outputs if self.card else self.program.outputs

    @property
    def dataset(self) -> Optional[str]:
        """The named dataset paddle-edge trained it on (None for a model brought from elsewhere)."""
        return self.card.dataset if self.card else None

    def describe(self) -> str:
        pre = self.preprocess.image
        how = f"{pre.color}, resize {pre.resize.mode}" if pre else "no image preprocessing"
        origin = f"from {self.config}" if self.config else ("from its paddle-edge card" if self.card else "none found")
        return f"{self.name}: {self.task}, inputs {[list(s.shape) for s in self.inputs]}; preprocessing {origin} ({how})"


def _check_labels(config: ModelConfig, program: ProgramInfo, where: Path) -> None:
    """A label list or CTC dictionary must match the width of the model's class axis (where the program states it)."""
    width = program.outputs[0].shape[-1] if program.outputs and program.outputs[0].shape else -1
    if config.labels is not None and width > 0 and len(config.labels) != width:
        kind = "dictionary (with blank and space)" if config.task == "text_recognition" else "label list"
        raise PaddleEdgeError(f"the {kind} of {where} has {len(config.labels):,} entries but the model's output "
                              f"{program.outputs[0].name!r} has {width:,} classes",
                              "use the dictionary or labels the model was trained with")


def _probabilities(program: ProgramInfo) -> bool:
    """Whether the model's (last) output is already a softmax, so a head must not apply another."""
    return bool(program.ops) and program.ops[-1] == "softmax"


def resolve_model(model_dir: Union[str, Path], preprocess_file: Optional[Path] = None) -> SourceModel:
    """Read a model directory once. Preprocessing comes from `preprocess_file` if given, else paddle-edge's card, else
    the directory's inference.yml; a model with none of them is `generic` (it takes arrays, not images)."""
    directory = Path(model_dir)
    files = find_model_files(directory)
    program = read_program(directory)
    card = ModelCard.load(directory)
    config_path = Path(preprocess_file) if preprocess_file else (directory / CONFIG_NAME if card is None else None)
    config = read_model_config(config_path) if config_path and (preprocess_file or config_path.is_file()) else None
    if config is not None:
        _check_labels(config, program, config_path)
        postprocess = dict(config.postprocess)
        if config.task == "classification":
            postprocess["probabilities"] = _probabilities(program)
        return SourceModel(directory, files, program, files.sha256(), config.name or directory.resolve().name, config.task,
                           config.preprocess, postprocess, config.labels, card, config_path)
    if card is not None:
        return SourceModel(directory, files, program, files.sha256(), card.model, card.task, card.preprocess, {},
                           card.labels, card, None)
    return SourceModel(directory, files, program, files.sha256(), directory.resolve().name, "generic", Preprocess(), {},
                       None, None, None)


def as_source(model: Union[str, Path, SourceModel]) -> SourceModel:
    """The value itself, or a directory resolved (for callers that hold only a path)."""
    return model if isinstance(model, SourceModel) else resolve_model(model)


def int8_twin(int8_dir: Union[str, Path], float_sha256: str, float_program: ProgramInfo, float_where: str,
              fix: str = "pass the float model the int8 model was made from, or compress it again") -> SourceModel:
    """PaddleSlim's int8 model in `int8_dir`, which `paddle-edge compress` made from the float model of `float_sha256`
    (its program `float_program`, at `float_where`); else an error naming why not: not compress's int8 model, another
    network (network_difference), or another save of the same one."""
    int8 = resolve_model(int8_dir)
    if int8.card is None or int8.card.precision != "int8":
        raise PaddleEdgeError(f"{int8_dir} is not an int8 model written by `paddle-edge compress`", "pass the directory compress wrote")
    if int8.card.source_sha256 != float_sha256:
        differs = network_difference(float_program, int8.program)
        raise PaddleEdgeError(f"{int8_dir} was not quantized from {float_where} (its source sha256 differs; "
                              + (f"another network: {differs})" if differs else
                                 "the same network's ops and weight shapes: another training or another save of it?)"), fix)
    return int8
