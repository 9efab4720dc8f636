"""How many tokens of every prompt are the same for every file: ``python -m bench prompt-size``.

The prompt's fixed part (the chat template, the instructions, the fence and the evidence
line's words) is paid once per file; with Llama 3's chat template and the model's
tokenizer it is measured here as the prompt's tokens minus those of the file text it
holds, on the sample files, for every field asked and for the subset a model may decide
(``--fields``). Run it against another checkout of the package (``PYTHONPATH=OLD:.``)
to compare two versions of the prompts in one sitting; a checkout without
``AnalysisSchema.asked`` measures every field for both rows.
"""

from __future__ import annotations

import json
import re
import statistics
from pathlib import Path

# Llama 3.x's chat format as its tokenizer_config.json writes it (the knowledge and date
# lines are part of every Llama 3.2 prompt).
LLAMA3 = ("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
          "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n{system}<|eot_id|>"
          "<|start_header_id|>user<|end_header_id|>\n\n{user}<|eot_id|>"
          "<|start_header_id|>assistant<|end_header_id|>\n\n")


SPECIAL = re.compile(r"<\|[a-z_]+\|>")


def count(encode, prompt: str) -> int:
    """Tokens of ``prompt``, each of Llama 3's special tokens counted as the one token it is
    (a tokenizer that does not know them would spell them out)."""
    pieces = SPECIAL.split(prompt)
    return len(SPECIAL.findall(prompt)) + sum(len(encode(p)) for p in pieces if p)


def fixed_tokens(encode, docs, schema, chars: int = 1500) -> list[int]:
    """Per file: tokens of the whole prompt minus tokens of the file text in it."""
    from helios_desktop.analysis import prompts

    out = []
    for doc in docs:
        text = doc.text[:chars]
        system, user = json.loads(prompts.chat_messages(doc, text, schema))
        prompt = LLAMA3.format(system=system["content"], user=user["content"])
        out.append(count(encode, prompt) - len(encode(text)))
    return out


def run(args, report) -> None:
    import onnxruntime_genai as og

    from bench.harness import load_docs
    from helios_desktop.analysis.schema import load_schema

    tokenizer = og.Tokenizer(og.Model(str(args.model)))
    docs = load_docs(Path(args.folder), 10 * 1024 * 1024)
    schema = load_schema(None)
    fields = frozenset(f.strip() for f in args.fields.split(",") if f.strip())
    asked = schema.asked(fields) if hasattr(schema, "asked") else schema
    rows, data = [], {"model": Path(args.model).name, "files": len(docs)}
    for label, ask in (("every field", schema), (f"asked: {', '.join(sorted(fields))}", asked)):
        counts = fixed_tokens(tokenizer.encode, docs, ask)
        point = {"median": statistics.median(counts), "max": max(counts), "min": min(counts)}
        data[label] = point
        rows.append((label, f"median {point['median']:.0f}, min {point['min']}, "
                     f"max {point['max']} tokens"))
    report("prompt-size", [("tokenizer", data["model"]), ("files", len(docs)), *rows], data)
