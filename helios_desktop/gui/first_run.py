"""The first run and File › Choose Model: the model chooser, the demonstration model's build."""

from __future__ import annotations

from ..config import ConfigError, save_user_settings
from ..engines.model_folder import model_note
from .backend import backend_command
from .chooser import ChooserSources, ModelChooser, core_sources
from .qt import QObject, QProcess
from .session import Session


class FirstRunPanel(QObject):
    """Owns firstRunPanel with its label and buttons, the model chooser, and the
    demonstration model's build."""

    def __init__(self, form, session: Session, parent=None,
                 sources: ChooserSources | None = None):
        super().__init__(parent)
        self.form, self.session = form, session
        self.sources = sources
        self.builder: QProcess | None = None
        self.chooser: ModelChooser | None = None
        form.buildModelButton.clicked.connect(self.build_default_model)
        form.chooseModelButton.clicked.connect(self.open_chooser)
        form.actionChooseModel.triggered.connect(self.open_chooser)
        session.settings_changed.connect(self.update)
        self.update()

    def update(self) -> None:
        ready, why = self.session.engine_ready()
        f = self.form
        offer = not self.session.model_set_up()
        f.firstRunPanel.setVisible(offer)
        if offer and self.builder is None:
            missing = bool(self.session.settings.model_path)
            evidence = ("Until then, Start reads each file and its own evidence decides "
                        "every field. " if ready else "")
            f.firstRunLabel.setText(why if missing else
                                    "No model is set up yet. Choose a model that writes the "
                                    "results: download one that fits this machine, use a "
                                    "model server running here, or a model folder; or build "
                                    "the small demonstration model (a few minutes, once). "
                                    + evidence)
            f.buildModelButton.setVisible(not missing)

    def build_default_model(self) -> None:
        """Build the demonstration model in a child process, showing its progress."""
        if self.builder is not None:
            return
        cmd = backend_command() + ["models", "build-default"]
        proc = QProcess(self)
        proc.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        proc.readyReadStandardOutput.connect(self._builder_output)
        proc.finished.connect(self._builder_finished)
        self.builder = proc
        self.form.buildModelButton.setEnabled(False)
        self.form.firstRunLabel.setText("Building the demonstration model…")
        proc.start(cmd[0], cmd[1:])

    def _builder_output(self) -> None:
        text = bytes(self.builder.readAllStandardOutput()).decode("utf-8", "replace")
        for line in text.splitlines():
            if line.strip():
                self.session.log.emit(line)
                if line.startswith("helios:"):
                    self.form.firstRunLabel.setText(line.removeprefix("helios:").strip())

    def _builder_finished(self, code: int, _status) -> None:
        self.builder = None
        self.form.buildModelButton.setEnabled(True)
        # The settings are the same; what they resolve to (the built model) changed.
        self.session.settings_changed.emit()
        if code == 0 and self.session.model_set_up():
            self.session.status.emit("The demonstration model is ready.")
        else:
            self.form.firstRunLabel.setText(
                f"Building the model failed (exit code {code}); see the Log tab. You can also "
                "choose a model.")

    def open_chooser(self) -> ModelChooser:
        """Show the chooser (made once; its catalog and server list are read each time)."""
        if self.chooser is None:
            chooser = ModelChooser(self.sources or core_sources(),
                                   self.form.firstRunPanel.window())
            chooser.folder_chosen.connect(self.use_model)
            chooser.server_chosen.connect(self.use_server)
            chooser.demo_chosen.connect(self.build_default_model)
            self.chooser = chooser
        if not self.chooser.isVisible():
            self.chooser.load()
        self.chooser.show()  # a dialog of the window: shown above it
        return self.chooser

    def use_server(self, url: str, model: str) -> None:
        """Send the files to the model server at ``url`` (its model ``model``)."""
        try:
            save_user_settings({"engine": "openai", "endpoints": [url], "api_model": model})
            self.session.reload_settings()
        except ConfigError as exc:
            self.session.message.emit(f"Settings problem: {exc}")
            return
        self.session.status.emit(f"Using the model server {url} (model {model})")

    def use_model(self, folder: str) -> bool:
        """Make ``folder`` the model in the user's config file, if it is a usable model."""
        usable, note = model_note(folder)
        if not usable:
            self.session.message.emit(note)
            return False
        # A folder chosen is the model used, also where a model server was set before.
        save_user_settings({"model_path": folder, "engine": "onnx"})
        self.session.reload_settings()
        self.session.status.emit(f"Using the model in {folder}")
        return True

    def shutdown(self) -> None:
        if self.chooser is not None:
            self.chooser.shutdown()
