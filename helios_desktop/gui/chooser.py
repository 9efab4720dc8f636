"""The model chooser: a catalog download, a model server found here, a folder, or the demo.

The chooser takes its data as plain lists of dicts, the core's shapes: catalog entries
{name, repo, subfolder, revision, runtime, size_bytes, licence, fits, why} and servers
found {kind, url, models}. ``ChooserSources`` names the core functions that produce them
and the one that downloads an entry; a route whose source is missing says so instead of
pretending. Downloads and the server probe run as background jobs (jobs.py); a chosen
folder is verified in a child process (model_check.py), and the verdict shown.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable

from .charts import RateWindow
from .forms import form_class
from .jobs import Job, JobContext, run_in_background
from .model_check import ModelCheck
from ..records import human_bytes
from .qt import QDialog, QFileDialog, QHeaderView, QMessageBox, Qt, QTableWidgetItem, pyqtSignal

# Licences that ask nothing of the person beyond keeping the notice; any other (the Llama
# 3.2 Community License) is shown and must be accepted before the download starts.
PERMISSIVE = {"mit", "apache-2.0", "bsd-2-clause", "bsd-3-clause"}
REDRAW_S = 0.1  # the progress line changes at most ten times a second


@dataclass
class ChooserSources:
    """The core functions behind the routes; None: the route is not offered by this build."""

    catalog: Callable[[], list[dict]] | None = None   # entries with fits/why for this machine
    servers: Callable[[], list[dict]] | None = None   # model servers on the loopback ports
    download: Callable[[dict, JobContext], str] | None = None  # -> the installed folder;
    # reports (bytes done, bytes total) through the context and stops when it is cancelled
    licence: Callable[[dict], str] | None = None  # an entry's licence text (may need the network)


def core_sources() -> ChooserSources:
    """The routes the installed core offers: the catalog with each entry's fit, the
    loopback probe and the pull (engines.hub_catalog, local_servers, hub_pull); a core
    without them leaves the chooser with the folder and demonstration routes."""
    try:
        from ..engines import hub_catalog, hub_pull, local_servers
    except ImportError:
        return ChooserSources()

    def catalog() -> list[dict]:
        return [{**entry.as_json(), "fits": fit.ok, "why": fit.reason,
                 "needs_acceptance": entry.needs_acceptance, "entry": entry}
                for entry, fit in hub_catalog.catalog_with_fit()]

    def servers() -> list[dict]:
        return [{"kind": s.name, "url": s.base_url, "models": list(s.models)}
                for s in local_servers.probe_servers()]

    def download(entry: dict, context: JobContext) -> str:
        cancel = threading.Event()
        context.on_cancel(cancel.set)
        # The person accepted the licence in the chooser before Download was offered.
        return str(hub_pull.pull(entry["entry"], accept_licence=True, cancel=cancel,
                                 progress=lambda p: context.report((p.done_bytes,
                                                                    p.total_bytes))))

    return ChooserSources(catalog, servers, download,
                          lambda entry: hub_pull.licence_text(entry["entry"]))


def needs_acceptance(entry: dict) -> bool:
    """A licence to accept before the download: the core says so, else any licence that is
    not a permissive one."""
    if "needs_acceptance" in entry:
        return bool(entry["needs_acceptance"])
    return entry["licence"].strip().lower() not in PERMISSIVE


def duration_text(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h {seconds // 60 % 60:02d}m"
    return f"{seconds // 60}m {seconds % 60:02d}s"


def download_text(done: int, total: int, rate: float) -> str:
    """'120.0 MB of 2.3 GB · 12.5 MB/s · about 3m 04s left'."""
    text = f"{human_bytes(done)} of {human_bytes(total)}" if total else human_bytes(done)
    if rate > 0:
        text += f" · {human_bytes(int(rate))}/s"
        if total > done:
            text += f" · about {duration_text((total - done) / rate)} left"
    return text


def server_rows(found: list[dict]) -> list[tuple[str, str, str]]:
    """(kind, url, model) per model a server offers; a server with none gets one row."""
    rows = []
    for server in found:
        models = server.get("models") or [""]
        rows += [(server["kind"], server["url"], model) for model in models]
    return rows


class ModelChooser(QDialog):
    folder_chosen = pyqtSignal(str)          # a verified model folder (picked or downloaded)
    server_chosen = pyqtSignal(str, str)     # url, model
    demo_chosen = pyqtSignal()

    def __init__(self, sources: ChooserSources | None = None, parent=None):
        super().__init__(parent)
        self.form = form_class("model_chooser")()
        self.form.setupUi(self)
        self.sources = sources or ChooserSources()
        self.entries: list[dict] = []
        self.servers: list[tuple[str, str, str]] = []
        self.download: Job | None = None
        self.loads: list[Job] = []  # the catalog read and the server probe
        self.check = ModelCheck(self)
        self.check.finished.connect(self._checked)
        self.licence_box: QMessageBox | None = None
        self._rate = RateWindow(span=5.0)
        self._drawn = 0.0
        f = self.form
        for table in (f.catalogTable, f.serversTable):
            table.verticalHeader().setVisible(False)
            table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
            table.horizontalHeader().setStretchLastSection(True)
        f.catalogTable.itemSelectionChanged.connect(self._entry_selected)
        f.licenceCheck.toggled.connect(lambda _on: self._update_download())
        f.licenceButton.clicked.connect(self.show_licence)
        f.downloadButton.clicked.connect(self.start_download)
        f.cancelButton.clicked.connect(self.cancel_download)
        f.serversTable.itemSelectionChanged.connect(self._server_selected)
        f.useServerButton.clicked.connect(self._use_server)
        f.folderButton.clicked.connect(self._pick_folder)
        f.demoButton.clicked.connect(self._demo)
        f.buttons.rejected.connect(self.reject)
        keep = f.downloadBar.sizePolicy()
        keep.setRetainSizeWhenHidden(True)  # the buttons keep their size when the bar hides
        f.downloadBar.setSizePolicy(keep)
        f.downloadBar.setVisible(False)

    # -- the data ------------------------------------------------------------------------------

    def load(self) -> None:
        """Fetch the catalog and probe for servers in the background (the probe has a
        deadline; neither blocks the window)."""
        f = self.form
        if self.sources.catalog is None:
            f.downloadLabel.setText("This build has no model catalog; choose a model folder "
                                    "or a model server.")
        else:
            f.downloadLabel.setText("Reading the catalog…")
            self._load(self.sources.catalog, self.set_catalog, self._catalog_failed)
        if self.sources.servers is None:
            f.serversLabel.setText("This build does not look for model servers.")
        else:
            f.serversLabel.setText("Looking for model servers on this machine…")
            self._load(self.sources.servers, self.set_servers, self._servers_failed)

    def _load(self, source, success, failure) -> None:
        job = run_in_background(self, lambda _context: source(), label="failed",
                                success=success, failure=failure)
        self.loads.append(job)
        job.ended.connect(lambda: self.loads.remove(job))

    def set_catalog(self, entries: list[dict]) -> None:
        f = self.form
        self.entries = list(entries)
        table = f.catalogTable
        table.setRowCount(len(self.entries))
        for row, e in enumerate(self.entries):
            fits = "yes" if e["fits"] else f"no: {e['why']}"
            for col, text in enumerate((e["name"], e["runtime"], human_bytes(e["size_bytes"]),
                                        e["licence"], fits)):
                item = QTableWidgetItem(text)
                item.setToolTip(f"{e['repo']} / {e['subfolder']} @ {e['revision'][:12]}"
                                + ("" if e["fits"] else f"\n{e['why']}"))
                if not e["fits"]:
                    item.setForeground(Qt.GlobalColor.gray)
                table.setItem(row, col, item)
        f.downloadLabel.setText("" if self.entries else "The catalog has no entries.")
        self._update_download()

    def set_servers(self, found: list[dict]) -> None:
        f = self.form
        self.servers = server_rows(found)
        table = f.serversTable
        table.setRowCount(len(self.servers))
        for row, cells in enumerate(self.servers):
            for col, text in enumerate(cells):
                table.setItem(row, col, QTableWidgetItem(text or "(no model loaded)"))
        f.serversLabel.setText(
            f"{len(found)} found." if found else
            "None found on the usual ports (Ollama 11434, LM Studio 1234, llama-server 8080, "
            "vLLM 8000, GPT4All 4891, Jan 1337).")
        self._server_selected()

    def _catalog_failed(self, message: str, _details: str) -> None:
        self.form.downloadLabel.setText(f"Reading the catalog {message}")

    def _servers_failed(self, message: str, _details: str) -> None:
        self.form.serversLabel.setText(f"Looking for model servers {message}")

    # -- download ------------------------------------------------------------------------------

    def selected_entry(self) -> dict | None:
        rows = self.form.catalogTable.selectionModel().selectedRows()
        return self.entries[rows[0].row()] if rows else None

    def _entry_selected(self) -> None:
        entry = self.selected_entry()
        check = self.form.licenceCheck
        check.setChecked(False)
        asks = entry is not None and needs_acceptance(entry)
        check.setEnabled(asks)
        check.setText(f"I accept the {entry['licence']} of {entry['name']}" if asks
                      else "I accept the model's licence")
        self.form.licenceButton.setEnabled(asks and self.sources.licence is not None)
        self._update_download()

    def show_licence(self) -> None:
        """The selected entry's licence text, read in the background, in a window of its own."""
        entry = self.selected_entry()
        if entry is None or self.sources.licence is None:
            return
        self.form.licenceButton.setEnabled(False)
        read = self.sources.licence
        self._load(lambda: read(entry), lambda text: self._licence_read(entry, text),
                   lambda message, _details: self._licence_read(entry, f"Reading it {message}"))

    def _licence_read(self, entry: dict, text: str) -> None:
        self.form.licenceButton.setEnabled(True)
        box = QMessageBox(QMessageBox.Icon.Information, entry["licence"],
                          f"{entry['name']} is provided under the {entry['licence']}. Read it "
                          "below before you accept it.", QMessageBox.StandardButton.Close, self)
        box.setDetailedText(text)
        box.setModal(False)
        box.show()
        self.licence_box = box

    def _update_download(self) -> None:
        f = self.form
        entry = self.selected_entry()
        busy = self.download is not None
        accepted = entry is not None and (not needs_acceptance(entry)
                                          or f.licenceCheck.isChecked())
        f.downloadButton.setEnabled(self.sources.download is not None and not busy
                                    and entry is not None and entry["fits"] and accepted)
        f.cancelButton.setEnabled(busy)
        if entry is not None and not entry["fits"] and not busy:
            f.downloadLabel.setText(f"{entry['name']} does not fit this machine: {entry['why']}")

    def start_download(self) -> None:
        entry = self.selected_entry()
        if entry is None or self.download is not None or self.sources.download is None:
            return
        f = self.form
        self._rate.reset()
        self._drawn = 0.0
        f.downloadBar.setVisible(True)
        f.downloadBar.setRange(0, 1000)
        f.downloadBar.setValue(0)
        f.downloadLabel.setText(f"Downloading {entry['name']}…")
        download = self.sources.download
        job = run_in_background(self, lambda context: download(entry, context),
                                label=f"downloading {entry['name']} failed",
                                success=self._downloaded, failure=self._download_failed,
                                progress=lambda p: self._progress(entry, *p))
        job.ended.connect(self._download_ended)
        self.download = job
        self._update_download()

    def _progress(self, entry: dict, done: int, total: int) -> None:
        now = time.monotonic()
        rate = self._rate.add(now, done)
        if now - self._drawn < REDRAW_S and done < total:
            return
        self._drawn = now
        total = total or entry["size_bytes"]
        if total:
            self.form.downloadBar.setValue(int(1000 * min(done, total) / total))
        self.form.downloadLabel.setText(f"{entry['name']}: {download_text(done, total, rate)}")

    def cancel_download(self) -> None:
        if self.download is not None:
            self.download.cancel()
            self.form.cancelButton.setEnabled(False)
            self.form.downloadLabel.setText("Cancelling: nothing half-downloaded is kept…")

    def _download_ended(self) -> None:
        cancelled = self.download is not None and self.download.context.cancelled
        self.download = None
        if cancelled:
            self.form.downloadBar.setVisible(False)
            self.form.downloadLabel.setText("Download cancelled.")
        self._update_download()

    def _downloaded(self, folder: str) -> None:
        self.form.downloadBar.setValue(1000)
        self.form.downloadLabel.setText(f"Downloaded to {folder}.")
        self.verify(folder)

    def _download_failed(self, message: str, _details: str) -> None:
        self.form.downloadBar.setVisible(False)
        self.form.downloadLabel.setText(message)

    # -- the other routes ----------------------------------------------------------------------

    def _server_selected(self) -> None:
        rows = self.form.serversTable.selectionModel().selectedRows()
        self.form.useServerButton.setEnabled(bool(rows) and bool(self.servers[rows[0].row()][2]))

    def _use_server(self) -> None:
        rows = self.form.serversTable.selectionModel().selectedRows()
        if rows:
            _kind, url, model = self.servers[rows[0].row()]
            self.form.verdictLabel.setText(f"Files will be sent to {url} (model {model}).")
            self.server_chosen.emit(url, model)

    def _pick_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a model folder")
        if folder:
            self.verify(folder)

    def _demo(self) -> None:
        self.form.verdictLabel.setText("Building the demonstration model; the window shows "
                                       "its progress.")
        self.demo_chosen.emit()

    # -- verification --------------------------------------------------------------------------

    def verify(self, folder: str) -> None:
        """Check ``folder`` in the background; when it works, it is chosen."""
        self.form.verdictLabel.setText(f"Checking the model in {folder}…")
        self.check.start(folder)

    def _checked(self, folder: str, usable: bool, text: str) -> None:
        self.form.verdictLabel.setText(text + (" It is now the model Helios uses." if usable
                                               else ""))
        if usable:
            self.folder_chosen.emit(folder)

    def done(self, result: int) -> None:
        """Closing the dialog cancels a download in flight (nothing half-downloaded is kept)."""
        self.cancel_download()
        super().done(result)

    def shutdown(self) -> None:
        """The window closes: stop every job and the check, and wait for the threads."""
        for job in [self.download, *self.loads]:
            if job is not None:
                job.cancel()
                job.wait()
        self.check.shutdown()
