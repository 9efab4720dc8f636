"""The settings dialog: edits the user config file (validated like every other config)."""

from __future__ import annotations

from pathlib import Path

from ..config import PROVIDERS, ConfigError, save_user_settings
from ..engines.model_folder import model_note as _model_note
from .forms import form_class
from .qt import QDialog, QDialogButtonBox, QFileDialog


def model_note(path: str) -> str:
    if not path:
        return "The built-in model (Gemma 3 270M) is a small demonstration model."
    return _model_note(path)[1]


class SettingsDialog(QDialog):
    def __init__(self, settings, parent=None):
        super().__init__(parent)
        self.form = form_class("settings_dialog")()
        self.form.setupUi(self)
        f = self.form
        f.providerCombo.addItems(PROVIDERS)
        v = settings.values
        f.modelEdit.setText(v["model_path"] or "")
        f.providerCombo.setCurrentText(v["provider"])
        f.workersSpin.setValue(v["workers"])
        f.batchSpin.setValue(v["max_batch_size"])
        f.inputSpin.setValue(v["max_input_tokens"])
        f.outputSpin.setValue(v["max_output_tokens"])
        f.includeEdit.setText(", ".join(v["include"]))
        f.excludeEdit.setText(", ".join(v["exclude"]))
        f.databaseEdit.setText(v["database"] or "")
        f.modelEdit.textChanged.connect(lambda text: f.modelCheck.setText(model_note(text)))
        f.modelCheck.setText(model_note(f.modelEdit.text()))
        f.modelBrowse.clicked.connect(self._browse)
        f.buttons.button(QDialogButtonBox.StandardButton.Save).clicked.connect(self.save)
        f.buttons.rejected.connect(self.reject)
        self.saved_to: Path | None = None

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a model folder")
        if folder:
            self.form.modelEdit.setText(folder)

    def values(self) -> dict:
        f = self.form
        split = lambda text: [p.strip() for p in text.split(",") if p.strip()]
        return {"model_path": f.modelEdit.text().strip() or None,
                "provider": f.providerCombo.currentText(), "workers": f.workersSpin.value(),
                "max_batch_size": f.batchSpin.value(), "max_input_tokens": f.inputSpin.value(),
                "max_output_tokens": f.outputSpin.value(),
                "include": split(f.includeEdit.text()) or ["**"],
                "exclude": split(f.excludeEdit.text()),
                "database": f.databaseEdit.text().strip() or None}

    def save(self) -> None:
        try:
            self.saved_to = save_user_settings(self.values())
        except ConfigError as exc:
            self.form.errorLabel.setText(str(exc))
            return
        self.accept()
