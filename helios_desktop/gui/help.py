"""Help › About and Help › Keyboard shortcuts: the texts they show."""

from __future__ import annotations

from .. import __version__

SHORTCUTS = [("Ctrl+O", "Open a folder"), ("F5", "Start (or resume) the analysis"),
             ("Esc", "Stop the analysis"), ("Ctrl+F", "Search the results"),
             ("Ctrl+E", "Export CSV"), ("Ctrl+Q", "Quit")]


def about_text(model: str | None) -> str:
    """``model``: the model server or model folder in use (None: the demonstration model)."""
    # Llama 3.2's licence asks every product built with it to say so where people see it.
    llama = "\n\nBuilt with Llama." if model and "llama-3.2" in model.lower() else ""
    model = model or "the built-in demonstration model (Gemma 3 270M)"
    return (f"Helios Desktop {__version__}\n\nModel: {model}{llama}\n\n"
            "Licences: Helios Desktop is open source. The demonstration model Gemma 3 270M "
            "is provided under the Gemma Terms of Use (ai.google.dev/gemma/terms). "
            "Libraries: Qt 6 and PyQt6 (GPL v3 / commercial), pyqtgraph (MIT), "
            "ONNX Runtime and onnxruntime-genai (MIT), NumPy (BSD), PyYAML (MIT), "
            "prometheus-client (Apache-2.0), nvidia-ml-py (BSD).")


def shortcuts_text() -> str:
    return "\n".join(f"{keys}\t{what}" for keys, what in SHORTCUTS)
