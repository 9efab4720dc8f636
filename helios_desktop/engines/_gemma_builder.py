"""Run the onnxruntime-genai 0.18 model builder on a transformers 5 Gemma 3 checkpoint.

transformers 5 nests Gemma 3's rope parameters per layer type
(``rope_parameters: {full_attention: {...}, sliding_attention: {...}}``) and drops
``rope_local_base_freq`` from the config, while the 0.18 builder expects the flat
form. This shim flattens the loaded config to the ``full_attention`` values and
sets ``rope_local_base_freq`` from ``sliding_attention``, then runs the builder's
own command line unchanged (``python -m helios_desktop.engines._gemma_builder ARGS``).
"""

from __future__ import annotations

import runpy
import sys


def _flatten(config):
    target = getattr(config, "text_config", None) or config
    for cfg in {id(config): config, id(target): target}.values():
        rope = getattr(cfg, "rope_parameters", None)
        if isinstance(rope, dict) and "full_attention" in rope:
            full, sliding = dict(rope["full_attention"]), rope.get("sliding_attention", {})
            cfg.rope_parameters = full
            cfg.rope_theta = full.get("rope_theta", 1_000_000.0)
            cfg.rope_local_base_freq = sliding.get("rope_theta", 10_000.0)
    return config


def main() -> None:
    import transformers

    original = transformers.AutoConfig.from_pretrained.__func__

    def from_pretrained(cls, *args, **kwargs):
        return _flatten(original(cls, *args, **kwargs))

    transformers.AutoConfig.from_pretrained = classmethod(from_pretrained)
    sys.argv[0] = "onnxruntime_genai.models.builder"
    runpy.run_module("onnxruntime_genai.models.builder", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
