"""The settings dialog: edits the user config file (validated like every other config).

Numbers are typed as text and checked whole, so "999" or "abc-5" is refused with the
setting, the value and what is allowed, never silently changed into something else.
A model folder that cannot be used is refused too.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..config import PROVIDERS, ConfigError, save_user_settings, validate_value
from ..engines.model_folder import model_note as _model_note
from .forms import form_class
from .qt import QDialog, QDialogButtonBox, QFileDialog

# The engine setting as the dialog offers it (config's ``engine``: onnx or openai).
ENGINES = [("a model on this computer", "onnx"), ("model servers (OpenAI-compatible)", "openai")]
NUMBERS = {"workersEdit": "workers", "batchEdit": "max_batch_size",
           "inputEdit": "max_input_tokens", "outputEdit": "max_output_tokens"}


def model_note(path: str) -> str:
    if not path:
        return "The built-in model (Gemma 3 270M) is a small demonstration model."
    return _model_note(path)[1]


def cpu_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class SettingsDialog(QDialog):
    def __init__(self, settings, parent=None):
        super().__init__(parent)
        self.form = form_class("settings_dialog")()
        self.form.setupUi(self)
        f = self.form
        f.providerCombo.addItems(PROVIDERS)
        v = settings.values
        self.allow_insecure_remote = bool(v["allow_insecure_remote"])
        f.modelEdit.setText(v["model_path"] or "")
        f.providerCombo.setCurrentText(v["provider"])
        for widget, key in NUMBERS.items():
            getattr(f, widget).setText(str(v[key]))
            getattr(f, widget).textChanged.connect(self._check)
        f.workersEdit.setPlaceholderText("auto = measured once per machine and model")
        f.includeEdit.setText(", ".join(v["include"]))
        f.excludeEdit.setText(", ".join(v["exclude"]))
        f.databaseEdit.setText(v["database"] or "")
        # The model servers (engine openai): the banner about a server sends people here.
        for label, key in ENGINES:
            f.engineCombo.addItem(label, key)
        f.engineCombo.setCurrentIndex(max(0, f.engineCombo.findData(v["engine"])))
        f.endpointsEdit.setText(", ".join(v["endpoints"] or []))
        f.apiModelEdit.setText(v["api_model"] or "")
        f.engineCombo.currentIndexChanged.connect(self._engine_changed)
        self._engine_changed()
        f.modelEdit.textChanged.connect(lambda text: f.modelCheck.setText(model_note(text)))
        f.modelCheck.setText(model_note(f.modelEdit.text()))
        f.providerCombo.currentTextChanged.connect(self._check)
        f.modelBrowse.clicked.connect(self._browse)
        f.buttons.button(QDialogButtonBox.StandardButton.Save).clicked.connect(self.save)
        f.buttons.rejected.connect(self.reject)
        self.saved_to: Path | None = None
        self._check()

    def _engine_changed(self) -> None:
        """Server fields for model servers, the model folder for a local model."""
        f = self.form
        servers = f.engineCombo.currentData() == "openai"
        for widget in (f.endpointsEdit, f.apiModelEdit):
            widget.setEnabled(servers)
        for widget in (f.modelEdit, f.modelBrowse, f.providerCombo):
            widget.setEnabled(not servers)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a model folder")
        if folder:
            self.form.modelEdit.setText(folder)

    def _number(self, widget: str):
        text = getattr(self.form, widget).text().strip()
        return int(text) if re.fullmatch(r"\d+", text) else text

    def _check(self) -> None:
        """Warnings that do not block saving (the label keeps its room: nothing jumps)."""
        workers = self._number("workersEdit")
        cores = cpu_cores()
        warning = ""
        if (isinstance(workers, int) and workers > cores
                and self.form.providerCombo.currentText() != "cuda"):
            warning = (f"{workers} workers on {cores} CPU cores: each worker loads its own copy "
                       "of the model, and more workers than cores make the run slower.")
        self.form.warningLabel.setText(warning)

    def values(self) -> dict:
        f = self.form
        split = lambda text: [p.strip() for p in text.split(",") if p.strip()]
        out = {"model_path": f.modelEdit.text().strip() or None,
               "provider": f.providerCombo.currentText(),
               "include": split(f.includeEdit.text()) or ["**"],
               "exclude": split(f.excludeEdit.text()),
               "database": f.databaseEdit.text().strip() or None,
               "engine": f.engineCombo.currentData(),
               "endpoints": split(f.endpointsEdit.text()),
               "api_model": f.apiModelEdit.text().strip() or None}
        out.update({key: self._number(widget) for widget, key in NUMBERS.items()})
        return out

    def problem(self) -> str:
        """Why these values cannot be saved, or ''."""
        values = self.values()
        for key, value in values.items():
            try:
                validate_value(key, value, "settings")
            except ConfigError as exc:
                return str(exc)
        if values["engine"] == "openai":
            if not values["endpoints"]:
                return ("Model servers: give at least one base URL, such as "
                        "http://127.0.0.1:11434/v1")
            if not values["api_model"]:
                return "Server's model name: the name the server knows, such as llama3.2:3b"
            from ..config.urls import check_endpoint_url

            for url in values["endpoints"]:
                try:
                    check_endpoint_url(url, self.allow_insecure_remote)
                except ValueError as exc:
                    return f"Model servers: {exc}"
        elif values["model_path"]:
            usable, note = _model_note(values["model_path"])
            if not usable:
                return f"Model folder: {note}"
        return ""

    def save(self) -> None:
        problem = self.problem()
        if problem:
            self.form.errorLabel.setText(problem)
            return
        try:
            self.saved_to = save_user_settings(self.values())
        except ConfigError as exc:
            self.form.errorLabel.setText(str(exc))
            return
        self.accept()
